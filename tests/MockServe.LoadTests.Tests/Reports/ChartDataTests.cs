using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Reports;

namespace MockServe.LoadTests.Tests.Reports;

public sealed class ChartDataTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    private static RequestSample Call(double start, double first, double last, long tokens, bool ok = true) => new()
    {
        Scenario = "chat",
        IntendedStart = S(start),
        ActualStart = S(start),
        FirstTokenAt = S(first),
        LastTokenAt = S(last),
        End = S(last),
        OutputTokens = tokens,
        Ok = ok,
        Status = ok ? RequestSample.OkStatus : "Internal",
    };

    [Fact]
    public void InFlight_OverlappingCalls_AveragesCoverPerBucket()
    {
        // Calls [0.5, 2.5] and [1, 2] in 1 s buckets over 3 s:
        // bucket 0: 0.5 of the first; bucket 1: all of both = 2; bucket 2: 0.5 of the first.
        var series = ChartData.InFlight([Call(0.5, 1, 2.5, 10), Call(1, 1.5, 2, 10)], S(1), S(3));

        Assert.Equal([0.0, 1.0, 2.0], series.Seconds);
        Assert.Equal([0.5, 2.0, 0.5], series.Values);
    }

    [Fact]
    public void OutputTokensPerSecond_SpreadsTokensFromFirstToLast()
    {
        // 40 tokens from 1 s to 3 s: 20 per second in buckets 1 and 2; a failed call's tokens do not count.
        var series = ChartData.OutputTokensPerSecond([Call(0, 1, 3, 40), Call(0, 0.5, 1.5, 100, ok: false)], S(1), S(4));

        Assert.Equal([0.0, 20.0, 20.0, 0.0], series.Values);
    }

    [Fact]
    public void OutputTokensPerSecond_HalfSecondBuckets_ArePerSecondRates()
    {
        // 10 tokens between 0 and 1 s in 0.5 s buckets: 5 tokens per bucket = 10 per second each.
        var series = ChartData.OutputTokensPerSecond([Call(0, 0, 1, 10)], S(0.5), S(1));

        Assert.Equal([10.0, 10.0], series.Values);
    }

    [Fact]
    public void RequestsPerSecond_CountsSuccessesWhereTheyEnd()
    {
        // Ends at 0.2, 0.7 and 1.5 s (the one at 0.7 failed): bucket 0 has 1, bucket 1 has 1.
        var series = ChartData.RequestsPerSecond([Call(0, 0.1, 0.2, 1), Call(0, 0.1, 0.7, 1, ok: false), Call(0, 1, 1.5, 1)], S(1), S(2));

        Assert.Equal([1.0, 1.0], series.Values);
    }

    [Fact]
    public void RequestsPerSecond_EndAfterDuration_CountsInLastBucket()
    {
        var series = ChartData.RequestsPerSecond([Call(0, 1, 5, 1)], S(1), S(2));

        Assert.Equal([0.0, 1.0], series.Values);
    }

    [Theory]
    [InlineData(1, 100)]
    [InlineData(60, 500)]
    [InlineData(600, 5_000)]
    public void BucketWidth_Duration_GivesAbout120Buckets(double seconds, double expectedMs)
    {
        // 60 s / 120 = 500 ms; 600 s / 120 = 5 s; 1 s / 120 = 8.3 ms, raised to the 100 ms floor.
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), ReportCharts.BucketWidth(S(seconds)));
    }

    [Theory]
    [InlineData(8, 500)]
    [InlineData(60, 2_000)]
    [InlineData(68.728, 2_300)]
    [InlineData(600, 20_000)]
    public void ThroughputBucketWidth_Duration_GivesAbout30Buckets(double seconds, double expectedMs)
    {
        // 60 s / 30 = 2 s; 600 s / 30 = 20 s; 68.728 s / 30 = 2.29 s, up to the next 100 ms: 2.3 s;
        // 8 s / 30 = 267 ms, raised to the 500 ms floor.
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), ReportCharts.ThroughputBucketWidth(S(seconds)));
    }

    [Theory]
    [InlineData(2053.847, "2054")]
    [InlineData(100, "100")]
    [InlineData(23.503, "23.5")]
    [InlineData(6.599, "6.60")]
    [InlineData(0, "0.00")]
    public void BarLabel_Milliseconds_KeepsAboutThreeFigures(double ms, string expected)
    {
        Assert.Equal(expected, ReportCharts.BarLabel(TimeSpan.FromMilliseconds(ms)));
    }
}
