using MockServe.LoadTests.Measurement;

using static MockServe.LoadTests.Tests.Measurement.Samples;

namespace MockServe.LoadTests.Tests.Measurement;

public sealed class RunRecorderTests
{
    // HdrHistogram at 3 significant digits reports a value within 0.1% of the true one.
    private static void AssertWithinPrecision(double expectedMs, TimeSpan actual) =>
        Assert.InRange(actual.TotalMilliseconds, expectedMs * 0.999, expectedMs * 1.001);

    [Fact]
    public void Evaluate_ScenarioWithThresholdsAndNoRequest_LatencyLimitFailsWithNoValues()
    {
        // A step starved of CPU may finish no request: its SLO must not pass for want of a verdict.
        var recorder = new RunRecorder(new Dictionary<string, SloSet> { ["quiet"] = SloSet.Parse("latency-p99=35ms") });

        var verdict = Assert.Single(recorder.Evaluate(recorder.GetStatistics(TimeSpan.FromSeconds(1))));

        Assert.Equal(("quiet", false, "no values"), (verdict.Scenario, verdict.Passed, verdict.Measured));
    }

    [Fact]
    public void GetStatistics_TtftOneToHundredMs_GivesNearestRankPercentiles()
    {
        var recorder = new RunRecorder();
        for (int i = 1; i <= 100; i++)
        {
            recorder.Record(Stream(0, 0, i, i + 10, 1));
        }

        var ttft = recorder.GetStatistics(TimeSpan.FromSeconds(10)).Scenarios.Single().Metrics[Metric.Ttft];

        // Nearest rank of 100 values 1..100 ms: p50 is the 50th (50 ms), p90 the 90th, p95 the 95th, p99 the 99th,
        // p99.9 rounds up to the 100th; the mean is 5050 / 100 = 50.5 ms.
        Assert.Equal(100, ttft.Count);
        AssertWithinPrecision(50, ttft.P50);
        AssertWithinPrecision(90, ttft.P90);
        AssertWithinPrecision(95, ttft.P95);
        AssertWithinPrecision(99, ttft.P99);
        AssertWithinPrecision(100, ttft.P999);
        Assert.Equal(Ms(100), ttft.Max);
        AssertWithinPrecision(50.5, ttft.Mean);
    }

    [Fact]
    public void GetStatistics_ThreeValues_MaxIsExact()
    {
        var recorder = new RunRecorder();
        foreach (double e2e in new[] { 1_000.0, 2_000.0, 12_345.678 })
        {
            recorder.Record(Stream(0, 0, 10, e2e, 2));
        }

        var e2eStats = recorder.GetStatistics(TimeSpan.FromSeconds(20)).Scenarios.Single().Metrics[Metric.E2e];

        // 12,345.678 ms is 12,345,678 µs: HdrHistogram would round it to its bucket, the max is kept exactly.
        Assert.Equal(TimeSpan.FromTicks(12_345_678 * TimeSpan.TicksPerMicrosecond), e2eStats.Max);
        AssertWithinPrecision(2_000, e2eStats.P50);
    }

    [Fact]
    public void GetStatistics_SuccessesAndFailures_ThroughputCountsSuccessesOnly()
    {
        var recorder = new RunRecorder();
        recorder.Record(Stream(0, 0, 100, 1_000, 100));
        recorder.Record(Stream(0, 0, 100, 1_000, 300));
        recorder.Record(Stream(0, 0, 100, 1_000, 200));
        recorder.Record(Failed("ResourceExhausted"));

        var stats = recorder.GetStatistics(TimeSpan.FromSeconds(4)).Scenarios.Single();

        // 3 successes over 4 s = 0.75 req/s; (100 + 300 + 200) tokens / 4 s = 150 tok/s; 1 failure of 4 = 25%.
        Assert.Equal(4, stats.Requests);
        Assert.Equal(3, stats.Succeeded);
        Assert.Equal(0.75, stats.RequestsPerSecond, 9);
        Assert.Equal(600, stats.OutputTokens);
        Assert.Equal(150, stats.OutputTokensPerSecond, 9);
        Assert.Equal(0.25, stats.ErrorRate, 9);
    }

    [Fact]
    public void GetStatistics_Failures_CountedByStatusMostFrequentFirst()
    {
        var recorder = new RunRecorder();
        recorder.Record(Failed("Unavailable"));
        recorder.Record(Failed("ResourceExhausted"));
        recorder.Record(Failed("ResourceExhausted"));
        recorder.Record(Failed(RequestSample.OkStatus));
        recorder.Record(Stream(0, 0, 1, 2, 2));

        var errors = recorder.GetStatistics(TimeSpan.FromSeconds(1)).Scenarios.Single().ErrorsByStatus;

        Assert.Equal(
            [new("ResourceExhausted", 2), new("Failed", 1), new("Unavailable", 1)],
            errors.ToArray());
    }

    [Fact]
    public void GetStatistics_FailuresWithMessages_KeepsTheFirstMessageOfEachStatus()
    {
        var recorder = new RunRecorder();
        recorder.Record(Failed("UNAVAILABLE"));
        recorder.Record(Failed("UNAVAILABLE") with { Error = "draining" });
        recorder.Record(Failed("UNAVAILABLE") with { Error = "later" });
        recorder.Record(Failed("INVALID_ARGUMENT") with { Error = "prompt_tokens 128000 exceeds 49000" });
        recorder.Record(Failed("INTERNAL"));

        var first = recorder.GetStatistics(TimeSpan.FromSeconds(1)).Scenarios.Single().FirstErrors;

        Assert.Equal(2, first.Count);
        Assert.Equal("draining", first["UNAVAILABLE"]);
        Assert.Equal("prompt_tokens 128000 exceeds 49000", first["INVALID_ARGUMENT"]);
    }

    [Fact]
    public void GetStatistics_RequestCutByTheRunsEnd_CountedAsCutNotAsRequestOrError()
    {
        var recorder = new RunRecorder(SloSet.Parse("error-rate=1%"));
        recorder.Record(Stream(0, 0, 100, 200, 10, session: "a"));
        recorder.Record(Failed(RequestSample.CutStatus, session: "a", turn: 1));

        var stats = recorder.GetStatistics(TimeSpan.FromSeconds(1));
        var s = stats.Scenarios.Single();

        Assert.Equal(1, s.Requests);
        Assert.Equal(0, s.Failed);
        Assert.Equal(1, s.Cut);
        Assert.Empty(s.ErrorsByStatus);
        Assert.Equal(1, s.Goodput.GoodSessions);
        Assert.All(recorder.Evaluate(stats), v => Assert.True(v.Passed));
        Assert.Equal(2, recorder.Samples().Count);
    }

    [Fact]
    public void GetStatistics_FailedRequest_CountsInLatenessNotInTtft()
    {
        var recorder = new RunRecorder();
        recorder.Record(Failed("Unavailable"));
        recorder.Record(Stream(0, 4, 10, 20, 2));

        var metrics = recorder.GetStatistics(TimeSpan.FromSeconds(1)).Scenarios.Single().Metrics;

        // Lateness: the failure started 2 ms late, the stream 4 ms late: two values, max 4 ms.
        Assert.Equal(2, metrics[Metric.ScheduleLateness].Count);
        Assert.Equal(Ms(4), metrics[Metric.ScheduleLateness].Max);
        Assert.Equal(1, metrics[Metric.Ttft].Count);
    }

    [Fact]
    public void GetStatistics_TurnsAndCacheStates_GroupedSeparately()
    {
        var recorder = new RunRecorder();
        recorder.Record(Stream(0, 0, 900, 1_000, 2, turn: 0, session: "a", cache: TurnCacheState.New));
        recorder.Record(Stream(0, 0, 100, 1_000, 2, turn: 1, session: "a", cache: TurnCacheState.Hot));
        recorder.Record(Stream(0, 0, 300, 1_000, 2, turn: 1, session: "b", cache: TurnCacheState.Host));

        var stats = recorder.GetStatistics(TimeSpan.FromSeconds(1)).Scenarios.Single();

        Assert.Equal([0, 1], stats.ByTurn.Keys.Order());
        Assert.Equal(1, stats.ByTurn[0][Metric.Ttft].Count);
        Assert.Equal(2, stats.ByTurn[1][Metric.Ttft].Count);
        Assert.Equal(Ms(300), stats.ByTurn[1][Metric.Ttft].Max);
        Assert.Equal(Ms(100), stats.ByCacheState[TurnCacheState.Hot][Metric.Ttft].Max);
        Assert.Equal(Ms(900), stats.ByCacheState[TurnCacheState.New][Metric.Ttft].Max);
        Assert.False(stats.ByCacheState.ContainsKey(TurnCacheState.Miss));
    }

    [Fact]
    public void GetStatistics_ChunkGaps_PooledAcrossRequests()
    {
        var recorder = new RunRecorder();
        recorder.Record(Stream(0, 0, 100, 400, 4) with { ChunkGaps = [Ms(100), Ms(100), Ms(100)] });
        recorder.Record(Stream(0, 0, 100, 700, 3) with { ChunkGaps = [Ms(100), Ms(500)] });

        var metrics = recorder.GetStatistics(TimeSpan.FromSeconds(1)).Scenarios.Single().Metrics;

        // Five gaps pooled: 100, 100, 100, 100, 500; worst gap per request: 100 and 500.
        Assert.Equal(5, metrics[Metric.ChunkGap].Count);
        Assert.Equal(Ms(500), metrics[Metric.ChunkGap].Max);
        AssertWithinPrecision(100, metrics[Metric.ChunkGap].P50);
        Assert.Equal(2, metrics[Metric.WorstGap].Count);
        AssertWithinPrecision(100, metrics[Metric.WorstGap].P50);
    }

    [Fact]
    public void GetStatistics_WithSlos_GoodputPerRequestCountsRequestsMeetingEverySlo()
    {
        var recorder = new RunRecorder(SloSet.Parse("ttft-p99=500ms,itl-p99=100ms"));
        recorder.Record(Stream(0, 0, 400, 1_300, 10)); // TTFT 400, ITL (1300-400)/9 = 100: meets both
        recorder.Record(Stream(0, 0, 600, 1_500, 10)); // TTFT 600 > 500: misses
        recorder.Record(Stream(0, 0, 100, 1_100, 10)); // ITL (1100-100)/9 = 111 > 100: misses
        recorder.Record(Stream(0, 0, 100, 100, 1));    // ITL undefined, TTFT 100: meets
        recorder.Record(Failed("Internal"));           // failures never count

        var goodput = recorder.GetStatistics(TimeSpan.FromSeconds(4)).Scenarios.Single().Goodput;

        // 2 good requests over 4 s = 0.5 per second.
        Assert.Equal(2, goodput.Requests);
        Assert.Equal(0.5, goodput.RequestsPerSecond, 9);
    }

    [Fact]
    public void GetStatistics_WithSlos_SessionCountsOnlyIfEveryTurnMet()
    {
        var recorder = new RunRecorder(SloSet.Parse("ttft-p99=1s"));
        recorder.Record(Stream(0, 0, 200, 500, 2, session: "a", turn: 0));
        recorder.Record(Stream(0, 0, 300, 500, 2, session: "a", turn: 1));
        recorder.Record(Stream(0, 0, 200, 500, 2, session: "b", turn: 0));
        recorder.Record(Stream(0, 0, 2_000, 2_500, 2, session: "b", turn: 1)); // b's second turn misses
        recorder.Record(Stream(0, 0, 200, 500, 2, session: "c", turn: 0));
        recorder.Record(Failed("Unavailable", session: "c", turn: 1));        // c's second turn fails
        recorder.Record(Stream(0, 0, 200, 500, 2));                              // one-off: no session

        var goodput = recorder.GetStatistics(TimeSpan.FromSeconds(2)).Scenarios.Single().Goodput;

        // Sessions a, b, c; only a met every SLO on every turn: 1 over 2 s = 0.5 per second.
        // Requests: a0, a1, b0, c0 and the one-off = 5.
        Assert.Equal(3, goodput.Sessions);
        Assert.Equal(1, goodput.GoodSessions);
        Assert.Equal(0.5, goodput.SessionsPerSecond, 9);
        Assert.Equal(5, goodput.Requests);
    }

    [Fact]
    public void GetStatistics_NoSlos_EverySuccessIsGood()
    {
        var recorder = new RunRecorder();
        recorder.Record(Stream(0, 0, 10_000, 20_000, 2));
        recorder.Record(Failed("Internal"));

        var goodput = recorder.GetStatistics(TimeSpan.FromSeconds(1)).Scenarios.Single().Goodput;

        Assert.Equal(1, goodput.Requests);
    }

    [Fact]
    public void GetStatistics_DriverDropsAndQueueWaits_Counted()
    {
        var recorder = new RunRecorder();
        recorder.RecordDriverDrop("chat");
        recorder.RecordDriverDrop("chat");
        recorder.RecordDriverQueueWait("chat", Ms(30));
        recorder.RecordDriverQueueWait("chat", Ms(10));

        var driver = recorder.GetStatistics(TimeSpan.FromSeconds(1)).Scenarios.Single().Driver;

        Assert.Equal(2, driver.Dropped);
        Assert.Equal(2, driver.Queued);
        Assert.Equal(Ms(30), driver.QueueWait!.Max);
    }

    [Fact]
    public void GetStatistics_TwoScenarios_KeptApartInFirstRecordedOrder()
    {
        var recorder = new RunRecorder();
        recorder.Record(Stream(0, 0, 10, 20, 2, scenario: "batch"));
        recorder.Record(Stream(0, 0, 10, 20, 2, scenario: "chat"));
        recorder.Record(Stream(0, 0, 10, 20, 2, scenario: "chat"));

        var scenarios = recorder.GetStatistics(TimeSpan.FromSeconds(1)).Scenarios;

        Assert.Equal(["batch", "chat"], scenarios.Select(s => s.Scenario));
        Assert.Equal([1L, 2L], scenarios.Select(s => s.Requests));
    }

    [Fact]
    public void Record_ManyThreads_CountsEverySample()
    {
        var recorder = new RunRecorder();

        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 1_000; i++)
            {
                recorder.Record(Stream(0, 0, 10, 20, 2) with { ChunkGaps = [Ms(10)] });
            }
        });

        var stats = recorder.GetStatistics(TimeSpan.FromSeconds(1)).Scenarios.Single();
        Assert.Equal(8_000, stats.Requests);
        Assert.Equal(8_000, stats.Metrics[Metric.ChunkGap].Count);
        Assert.Equal(8_000, recorder.Samples().Count);
    }

    [Fact]
    public void Record_NegativeLateness_RecordedAsZero()
    {
        var recorder = new RunRecorder();
        recorder.Record(Stream(10, 9, 20, 30, 2));

        var lateness = recorder.GetStatistics(TimeSpan.FromSeconds(1)).Scenarios.Single().Metrics[Metric.ScheduleLateness];

        Assert.Equal(TimeSpan.Zero, lateness.Max);
    }

    [Fact]
    public void Record_PerScenarioSlos_JudgeEachScenarioByItsOwn()
    {
        var recorder = new RunRecorder(
            new Dictionary<string, SloSet> { ["chat"] = SloSet.Parse("ttft-p99=1s") },
            SloSet.Parse("ttft-p99=5s"));
        recorder.Record(Stream(0, 0, 2_000, 3_000, 2, scenario: "chat"));  // 2 s > chat's 1 s
        recorder.Record(Stream(0, 0, 2_000, 3_000, 2, scenario: "batch")); // 2 s <= the default 5 s

        var stats = recorder.GetStatistics(TimeSpan.FromSeconds(1));
        var verdicts = recorder.Evaluate(stats);

        Assert.Equal([0L, 1L], stats.Scenarios.Select(s => s.Goodput.Requests));
        Assert.Equal(["chat ttft-p99=1s False", "batch ttft-p99=5s True"], verdicts.Select(v => $"{v.Scenario} {v.Threshold} {v.Passed}"));
    }

    [Fact]
    public void Live_AfterRequests_GivesCountersAndTtftP99()
    {
        var recorder = new RunRecorder();
        recorder.Record(Stream(0, 0, 100, 200, 7));
        recorder.Record(Stream(0, 0, 300, 400, 5));
        recorder.Record(Failed("Unavailable"));
        recorder.RecordDriverDrop("chat");

        var live = Assert.Single(recorder.Live());

        // TTFTs 100 and 300 ms: p99 is the larger; tokens 7 + 5 = 12 (the failure adds none).
        Assert.Equal(new LiveSnapshot("chat", 3, 2, 1, 12, 1, live.TtftP99), live);
        AssertWithinPrecision(300, live.TtftP99!.Value);
    }
}
