using MockServe.LoadTests.Live;

using static MockServe.LoadTests.Tests.Measurement.Samples;

namespace MockServe.LoadTests.Tests.Live;

public class PlainProgressTests
{
    [Fact]
    public async Task WatchAsync_EachTick_ALineWithTheIntervalsRatesAndTheClock()
    {
        var run = new TestRun(TimeSpan.FromSeconds(60), "chat");
        var c = run.Set("chat", copies: 4, started: 5, inFlight: 2, queued: 1, dropped: 1);
        var lines = new LineWriter();
        using var stop = new CancellationTokenSource();
        var watching = new PlainProgress(lines, TimeSpan.FromSeconds(1)).WatchAsync(run.View, stop.Token);

        // Second 1: three requests of 100 tokens, each a TTFT of 250 ms.
        for (int i = 0; i < 3; i++)
        {
            run.Recorder.Record(Stream(0, 0, 250, 1000, 100));
        }

        run.Clock.Advance(TimeSpan.FromSeconds(1));
        string first = await lines.NextAsync();

        // Second 2: one more of 100 tokens with a TTFT of 1.5 s (p99 of 4 values: the largest), and a failure.
        run.Recorder.Record(Stream(0, 0, 1500, 2000, 100));
        run.Recorder.Record(Failed("Unavailable"));
        c._started = 7;
        run.Clock.Advance(TimeSpan.FromSeconds(1));
        string second = await lines.NextAsync();
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);

        // 3 requests / 1 s, 300 tokens / 1 s; then 2 requests / 1 s and 100 tokens / 1 s (the failure has none).
        Assert.Equal("[   1.0 s, 59.0 s left] chat: users 4, started 5, in flight 2, 3.0 req/s, 300.0 tok/s, TTFT p99 0.250 s, requests 3, failed 0, dropped 1, queued 1", first);
        Assert.Equal("[   2.0 s, 58.0 s left] chat: users 4, started 7, in flight 2, 2.0 req/s, 100.0 tok/s, TTFT p99 1.500 s, requests 5, failed 1, dropped 1, queued 1", second);
        Assert.False(lines.TryNext(out _));
    }

    [Fact]
    public void Lines_TwoScenariosNoPlan_ALineEachWithElapsedOnly()
    {
        var frame = new ProgressFrame(TimeSpan.FromSeconds(12.5), null,
        [
            new ProgressRow(new ScenarioProgress("a", 1, 1, 1, 0, 0, 0, 0, 0, null), 0, 0),
            new ProgressRow(new ScenarioProgress("b", 0, 30, 3, 0, 27, 0, 5_400, 0, TimeSpan.FromMilliseconds(80)), 2.4, 450),
        ]);

        var lines = PlainProgress.Lines(frame).ToList();

        Assert.Equal(
        [
            "[  12.5 s] a: users 1, started 1, in flight 1, 0.0 req/s, 0.0 tok/s, TTFT p99 -, requests 0, failed 0, dropped 0, queued 0",
            "[  12.5 s] b: users 0, started 30, in flight 3, 2.4 req/s, 450.0 tok/s, TTFT p99 0.080 s, requests 27, failed 0, dropped 0, queued 0",
        ], lines);
    }
}
