namespace MockServe.LoadTests.Measurement;

/// <summary>A statistic of a latency distribution that reports and SLOs name.</summary>
public enum Percentile
{
    /// <summary>Median.</summary>
    P50,

    /// <summary>90th percentile.</summary>
    P90,

    /// <summary>95th percentile.</summary>
    P95,

    /// <summary>99th percentile.</summary>
    P99,

    /// <summary>99.9th percentile.</summary>
    P999,

    /// <summary>The largest value recorded.</summary>
    Max,
}

/// <summary>Names and values of <see cref="Percentile"/>.</summary>
public static class PercentileNames
{
    private static readonly string[] Names = ["p50", "p90", "p95", "p99", "p99.9", "max"];
    private static readonly double[] Values = [50, 90, 95, 99, 99.9, 100];

    /// <summary>Every statistic, in report order.</summary>
    public static IReadOnlyList<Percentile> All { get; } = Enum.GetValues<Percentile>();

    /// <summary><c>p50</c>, <c>p90</c>, <c>p95</c>, <c>p99</c>, <c>p99.9</c> or <c>max</c>.</summary>
    public static string Name(this Percentile percentile) => Names[(int)percentile];

    /// <summary>The percentile as a number from 0 to 100 (max is 100).</summary>
    public static double Value(this Percentile percentile) => Values[(int)percentile];

    /// <summary>The statistic with this name, or null.</summary>
    public static Percentile? FromName(string name)
    {
        int index = Array.IndexOf(Names, name);
        return index < 0 ? null : (Percentile)index;
    }

    internal static string AllNames => "p50, p90, p95, p99, p99.9 or max";
}
