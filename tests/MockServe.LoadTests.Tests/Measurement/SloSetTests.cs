using MockServe.LoadTests.Measurement;

using static MockServe.LoadTests.Tests.Measurement.Samples;

namespace MockServe.LoadTests.Tests.Measurement;

public sealed class SloSetTests
{
    [Fact]
    public void Parse_IssueExample_GivesFourThresholds()
    {
        var set = SloSet.Parse("ttft-p99=5s,itl-p99=100ms,e2e-p99=60s,error-rate=1%");

        Assert.Equal(
            [
                new LatencyThreshold(Metric.Ttft, Percentile.P99, TimeSpan.FromSeconds(5)),
                new LatencyThreshold(Metric.Itl, Percentile.P99, TimeSpan.FromMilliseconds(100)),
                new LatencyThreshold(Metric.E2e, Percentile.P99, TimeSpan.FromSeconds(60)),
                new ErrorRateThreshold(0.01),
            ],
            set.Thresholds);
    }

    [Theory]
    [InlineData("ttft-p50=1.5m", Metric.Ttft, Percentile.P50, 90_000)]
    [InlineData("itl-p90=250ms", Metric.Itl, Percentile.P90, 250)]
    [InlineData("e2e-p95=2s", Metric.E2e, Percentile.P95, 2_000)]
    [InlineData("gap-p99.9=0.5s", Metric.ChunkGap, Percentile.P999, 500)]
    [InlineData("worst-gap-max=3s", Metric.WorstGap, Percentile.Max, 3_000)]
    [InlineData(" LATENESS-P99 = 5ms ", Metric.ScheduleLateness, Percentile.P99, 5)]
    [InlineData("ttft-actual-p99=1s", Metric.TtftFromActual, Percentile.P99, 1_000)]
    [InlineData("latency-p99=20ms", Metric.Latency, Percentile.P99, 20)]
    [InlineData("server-swap-in-max=2s", Metric.ServerSwapIn, Percentile.Max, 2_000)]
    public void Parse_EachMetricStatisticAndUnit_GivesThreshold(string text, Metric metric, Percentile percentile, double limitMs)
    {
        var threshold = Assert.IsType<LatencyThreshold>(Assert.Single(SloSet.Parse(text).Thresholds));

        Assert.Equal(new LatencyThreshold(metric, percentile, TimeSpan.FromMilliseconds(limitMs)), threshold);
    }

    [Theory]
    [InlineData("ttft-p99", "SLO 'ttft-p99' has no value; expected KEY=VALUE pairs separated by commas, e.g. ttft-p99=5s,itl-p99=100ms,error-rate=1%.")]
    [InlineData("ttft-p99=5s,,itl-p99=1s", "SLO 'ttft-p99=5s,,itl-p99=1s' has an empty item; expected KEY=VALUE pairs separated by commas, e.g. ttft-p99=5s,itl-p99=100ms,error-rate=1%.")]
    [InlineData("tpot-p99=5s", "SLO key 'tpot-p99' names an unknown metric 'tpot'; expected one of ttft, ttft-actual, itl, e2e, gap, worst-gap, lateness, latency, server-queue, server-swap-in, server-prefill, server-decode.")]
    [InlineData("ttft-p42=5s", "SLO key 'ttft-p42' names an unknown statistic 'p42'; expected p50, p90, p95, p99, p99.9 or max.")]
    [InlineData("ttft=5s", "SLO key 'ttft' is not known; expected METRIC-STAT with METRIC one of ttft, ttft-actual, itl, e2e, gap, worst-gap, lateness, latency, server-queue, server-swap-in, server-prefill, server-decode and STAT one of p50, p90, p95, p99, p99.9 or max, or error-rate.")]
    [InlineData("ttft-p99=5", "SLO ttft-p99 has value '5'; expected a duration above 0 and at most 24 h, a number with unit ms, s or m (e.g. 250ms, 5s, 1.5m).")]
    [InlineData("ttft-p99=5h", "SLO ttft-p99 has value '5h'; expected a duration above 0 and at most 24 h, a number with unit ms, s or m (e.g. 250ms, 5s, 1.5m).")]
    [InlineData("ttft-p99=0s", "SLO ttft-p99 has value '0s'; expected a duration above 0 and at most 24 h, a number with unit ms, s or m (e.g. 250ms, 5s, 1.5m).")]
    [InlineData("ttft-p99=-1s", "SLO ttft-p99 has value '-1s'; expected a duration above 0 and at most 24 h, a number with unit ms, s or m (e.g. 250ms, 5s, 1.5m).")]
    [InlineData("error-rate=1", "SLO error-rate has value '1'; expected a percentage from 0% to 100% (e.g. 1%, 0.5%).")]
    [InlineData("error-rate=150%", "SLO error-rate has value '150%'; expected a percentage from 0% to 100% (e.g. 1%, 0.5%).")]
    [InlineData("ttft-p99=5s,ttft-p99=6s", "SLO ttft-p99 is given twice; give each key once.")]
    public void Parse_BadInput_ThrowsNamingKeyValueAndForm(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => SloSet.Parse(text));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void TryParse_BadInput_ReturnsMessage()
    {
        bool ok = SloSet.TryParse("itl-p99=fast", out var set, out string? error);

        Assert.False(ok);
        Assert.Same(SloSet.Empty, set);
        Assert.StartsWith("SLO itl-p99 has value 'fast'", error);
    }

    [Fact]
    public void ToString_ParsedSet_WritesItBack()
    {
        Assert.Equal("ttft-p99=5s,itl-p99.9=100ms,error-rate=0.5%", SloSet.Parse("ttft-p99=5s,itl-p99.9=100ms,error-rate=0.5%").ToString());
    }

    [Fact]
    public void Evaluate_TtftP99OverLimit_FailsNamingLimitAndMeasured()
    {
        var recorder = new RunRecorder();
        for (int i = 1; i <= 100; i++)
        {
            recorder.Record(Stream(0, 0, i * 100, (i * 100) + 50, 2));
        }

        var verdicts = SloSet.Parse("ttft-p99=5s,ttft-p50=5.1s").Evaluate(recorder.GetStatistics(TimeSpan.FromSeconds(10)));

        // TTFTs 0.1 s .. 10 s in steps of 0.1 s: p99 is the 99th, 9.9 s (> 5 s); p50 the 50th, 5 s (<= 5.1 s).
        // HdrHistogram reports the top of the value's bucket (8.192 ms wide near 9.9 s), hence 9.9 and a few ms.
        Assert.Equal(2, verdicts.Count);
        Assert.False(verdicts[0].Passed);
        Assert.Matches(@"^FAIL chat ttft-p99: measured 9\.90\d*s, limit 5s$", verdicts[0].ToString());
        Assert.True(verdicts[1].Passed);
    }

    [Fact]
    public void Evaluate_ErrorRate_ComparesShareOfFailures()
    {
        var recorder = new RunRecorder();
        recorder.Record(Failed("Unavailable"));
        for (int i = 0; i < 49; i++)
        {
            recorder.Record(Stream(0, 0, 10, 20, 2));
        }

        var stats = recorder.GetStatistics(TimeSpan.FromSeconds(1));

        // 1 failure of 50 = 2%.
        var failed = Assert.Single(SloSet.Parse("error-rate=1%").Evaluate(stats));
        var passed = Assert.Single(SloSet.Parse("error-rate=2%").Evaluate(stats));
        Assert.Equal("FAIL chat error-rate: measured 2%, limit 1%", failed.ToString());
        Assert.True(passed.Passed);
    }

    [Fact]
    public void Evaluate_MetricWithNoValues_Fails()
    {
        var recorder = new RunRecorder();
        recorder.Record(Failed("Unavailable"));

        var verdict = Assert.Single(SloSet.Parse("ttft-p99=5s").Evaluate(recorder.GetStatistics(TimeSpan.FromSeconds(1))));

        Assert.False(verdict.Passed);
        Assert.Equal("no values", verdict.Measured);
    }

    [Fact]
    public void IsMetBy_GapThreshold_JudgesTheWorstGap()
    {
        var set = SloSet.Parse("gap-p99=200ms");
        var smooth = Stream(0, 0, 100, 400, 4) with { ChunkGaps = [Ms(100), Ms(200), Ms(0)] };
        var stalled = Stream(0, 0, 100, 400, 4) with { ChunkGaps = [Ms(100), Ms(201), Ms(0)] };

        Assert.True(set.IsMetBy(smooth));
        Assert.False(set.IsMetBy(stalled));
    }
}
