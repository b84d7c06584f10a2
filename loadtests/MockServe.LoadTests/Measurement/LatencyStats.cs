namespace MockServe.LoadTests.Measurement;

/// <summary>The distribution of one metric: percentiles within HdrHistogram's precision (3 significant digits), exact max.</summary>
public sealed record LatencyStats(
    long Count,
    TimeSpan Mean,
    TimeSpan P50,
    TimeSpan P90,
    TimeSpan P95,
    TimeSpan P99,
    TimeSpan P999,
    TimeSpan Max)
{
    /// <summary>The named statistic.</summary>
    public TimeSpan Get(Percentile percentile) => percentile switch
    {
        Percentile.P50 => P50,
        Percentile.P90 => P90,
        Percentile.P95 => P95,
        Percentile.P99 => P99,
        Percentile.P999 => P999,
        _ => Max,
    };
}
