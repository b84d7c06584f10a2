using MockServe.LoadTests.Measurement;

namespace MockServe.LoadTests.Tests.Measurement;

/// <summary>Hand-made samples: times in milliseconds from the run's start.</summary>
internal static class Samples
{
    public static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    /// <summary>A successful stream: intended and actual start, first and last token, its output tokens.</summary>
    public static RequestSample Stream(
        double intendedMs,
        double actualMs,
        double firstMs,
        double lastMs,
        long outputTokens,
        string scenario = "chat",
        int turn = 0,
        string? session = null,
        TurnCacheState cache = TurnCacheState.New) => new()
        {
            Scenario = scenario,
            Turn = turn,
            SessionId = session,
            IntendedStart = Ms(intendedMs),
            ActualStart = Ms(actualMs),
            FirstTokenAt = Ms(firstMs),
            LastTokenAt = Ms(lastMs),
            End = Ms(lastMs),
            OutputTokens = outputTokens,
            CacheState = cache,
        };

    public static RequestSample Failed(string status, string scenario = "chat", string? session = null, int turn = 0) => new()
    {
        Scenario = scenario,
        SessionId = session,
        Turn = turn,
        IntendedStart = Ms(0),
        ActualStart = Ms(2),
        End = Ms(10),
        Status = status,
        Ok = false,
    };
}
