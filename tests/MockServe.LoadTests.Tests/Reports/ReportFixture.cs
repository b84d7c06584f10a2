using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Reports;

namespace MockServe.LoadTests.Tests.Reports;

/// <summary>A small hand-made run: two chat turns of one session, a failure, and a batch request.</summary>
internal static class ReportFixture
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    public static RunReport Build()
    {
        var recorder = new RunRecorder(SloSet.Parse("ttft-p99=1s,error-rate=10%"));
        recorder.Record(new RequestSample
        {
            Scenario = "chat",
            RequestIndex = 0,
            Copy = 3,
            Turn = 0,
            SessionId = "s-1",
            IntendedStart = Ms(1_000),
            ActualStart = Ms(1_002),
            FirstTokenAt = Ms(1_500),
            LastTokenAt = Ms(2_400),
            End = Ms(2_401),
            ChunkGaps = [Ms(100), Ms(300)],
            OutputTokens = 10,
            PromptTokens = 50_000,
            CachedTokens = 0,
            CacheState = TurnCacheState.New,
            Server = new ServerTiming(Ms(10), Ms(0), Ms(480), Ms(900), Ms(490), Ms(1_390), 0),
        });
        recorder.Record(new RequestSample
        {
            Scenario = "chat",
            RequestIndex = 1,
            Copy = 3,
            Turn = 1,
            SessionId = "s-1",
            IntendedStart = Ms(5_000),
            ActualStart = Ms(5_000),
            FirstTokenAt = Ms(5_100),
            LastTokenAt = Ms(5_600),
            End = Ms(5_600),
            OutputTokens = 6,
            PromptTokens = 50_020,
            CachedTokens = 50_009,
            CacheState = TurnCacheState.Hot,
        });
        recorder.Record(new RequestSample
        {
            Scenario = "chat",
            RequestIndex = 2,
            Copy = 4,
            IntendedStart = Ms(6_000),
            ActualStart = Ms(6_001),
            End = Ms(6_050),
            Status = "ResourceExhausted",
            Ok = false,
        });
        recorder.Record(new RequestSample
        {
            Scenario = "batch, \"nightly\"",
            IntendedStart = Ms(0),
            ActualStart = Ms(0),
            End = Ms(20),
            CustomLatency = Ms(20),
            SizeBytes = 512,
        });
        return RunReport.From(recorder, TimeSpan.FromSeconds(10));
    }
}
