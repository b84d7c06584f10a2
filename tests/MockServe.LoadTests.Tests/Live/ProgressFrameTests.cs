using MockServe.LoadTests.Live;

using static MockServe.LoadTests.Tests.Measurement.Samples;

namespace MockServe.LoadTests.Tests.Live;

public class ProgressFrameTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromSeconds(60);

    private static ScenarioProgress Chat(long requests, long tokens, string name = "chat") =>
        new(name, Users: 8, Arrivals: 50, InFlight: 8, Queued: 0, requests, Failed: 0, tokens, Dropped: 0, TtftP99: null);

    [Fact]
    public void Between_TwoSnapshots_RatesOverTheIntervalNotSinceTheStart()
    {
        var before = new ProgressSnapshot(TimeSpan.FromSeconds(10), [Chat(40, 8_000)]);
        var now = new ProgressSnapshot(TimeSpan.FromSeconds(12), [Chat(46, 9_200)]);

        var frame = ProgressFrame.Between(before, now, Minute);

        var row = Assert.Single(frame.Rows);
        // (46 - 40) requests / 2 s = 3; (9,200 - 8,000) tokens / 2 s = 600 (since the start it would be 3.83 and 766.7).
        Assert.Equal(3.0, row.RequestsPerSecond, 9);
        Assert.Equal(600.0, row.OutputTokensPerSecond, 9);
        Assert.Equal(46, row.Now.Requests);
    }

    [Fact]
    public void Between_NoPreviousSnapshot_RatesSinceTheStart()
    {
        var frame = ProgressFrame.Between(null, new ProgressSnapshot(TimeSpan.FromSeconds(4), [Chat(10, 1_000)]), Minute);

        // 10 requests / 4 s = 2.5; 1,000 tokens / 4 s = 250.
        Assert.Equal(2.5, frame.Rows[0].RequestsPerSecond, 9);
        Assert.Equal(250.0, frame.Rows[0].OutputTokensPerSecond, 9);
    }

    [Fact]
    public void Remaining_PlannedMinute_PlanLessElapsedNeverBelowZero()
    {
        var early = ProgressFrame.Between(null, new ProgressSnapshot(TimeSpan.FromSeconds(12), []), Minute);
        var grace = ProgressFrame.Between(null, new ProgressSnapshot(TimeSpan.FromSeconds(62), []), Minute);
        var iterations = ProgressFrame.Between(null, new ProgressSnapshot(TimeSpan.FromSeconds(12), []), null);

        Assert.Equal(TimeSpan.FromSeconds(48), early.Remaining);
        Assert.Equal(TimeSpan.Zero, grace.Remaining);
        Assert.Null(iterations.Remaining);
    }

    [Fact]
    public void Between_SameMoment_RatesAreZeroNotInfinite()
    {
        var at = new ProgressSnapshot(TimeSpan.FromSeconds(5), [Chat(10, 100)]);

        var frame = ProgressFrame.Between(at, at with { Scenarios = [Chat(12, 300)] }, Minute);

        Assert.Equal(0, frame.Rows[0].RequestsPerSecond);
        Assert.Equal(0, frame.Rows[0].OutputTokensPerSecond);
    }

    [Fact]
    public void Between_ScenarioNewInTheLaterSnapshot_CountsFromZero()
    {
        var before = new ProgressSnapshot(TimeSpan.FromSeconds(1), [Chat(4, 400)]);
        var now = new ProgressSnapshot(TimeSpan.FromSeconds(3), [Chat(8, 800), Chat(6, 90, "burst")]);

        var frame = ProgressFrame.Between(before, now, Minute);

        // chat: 4 / 2 s = 2 and 400 / 2 s = 200; burst, unseen before: 6 / 2 s = 3 and 90 / 2 s = 45.
        Assert.Equal([2.0, 3.0], frame.Rows.Select(r => r.RequestsPerSecond));
        Assert.Equal([200.0, 45.0], frame.Rows.Select(r => r.OutputTokensPerSecond));
    }

    [Fact]
    public void Take_RunView_DriverCountsWithRecordedRequestsAndTtft()
    {
        var run = new TestRun(Minute, "chat");
        run.Set("chat", copies: 3, started: 7, inFlight: 2, queued: 1, dropped: 4);
        run.Recorder.Record(Stream(0, 0, 250, 1000, 100));
        run.Recorder.Record(Failed("Unavailable"));
        run.Clock.Advance(TimeSpan.FromSeconds(2));

        var snapshot = ProgressSnapshot.Take(run.View);

        Assert.Equal(TimeSpan.FromSeconds(2), snapshot.Elapsed);
        // Drops are the driver's own (the recorder hears of them only at the end); the rest the recorder's.
        Assert.Equal(new ScenarioProgress("chat", 3, 7, 2, 1, Requests: 2, Failed: 1, OutputTokens: 100, Dropped: 4, TimeSpan.FromMilliseconds(250)), Assert.Single(snapshot.Scenarios));
    }
}
