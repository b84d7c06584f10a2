using System.Globalization;

using MockServe.Core.Engine;
using MockServe.Core.Simulation;

namespace MockServe.Core.Capacity;

/// <summary>The latencies an SLO may bound, as the load driver names them.</summary>
public enum SloMetric
{
    /// <summary>Time to first token.</summary>
    Ttft,

    /// <summary>Per-request inter-token latency: (E2E - TTFT) / (output tokens - 1).</summary>
    Itl,

    /// <summary>End to end: last token minus arrival.</summary>
    E2e,
}

/// <summary>One bound: a percentile of a latency over a run's measured turns, at most <see cref="LimitSeconds"/>.</summary>
public sealed record SloThreshold(SloMetric Metric, int Percentile, double LimitSeconds)
{
    /// <summary>The key as <c>--slo</c> spells it: <c>ttft-p99</c>.</summary>
    public string Key => string.Create(CultureInfo.InvariantCulture, $"{Metric.ToString().ToLowerInvariant()}-p{Percentile}");

    /// <summary>This threshold's percentile in a run's summary of its metric.</summary>
    public double ValueOf(LatencySummary summary) => Percentile switch
    {
        50 => summary.P50,
        90 => summary.P90,
        95 => summary.P95,
        _ => summary.P99,
    };

    /// <summary>The summary of this threshold's metric among a run's three.</summary>
    public LatencySummary SummaryOf(LatencySummary ttft, LatencySummary itl, LatencySummary e2e) => Metric switch
    {
        SloMetric.Ttft => ttft,
        SloMetric.Itl => itl,
        _ => e2e,
    };

    /// <summary>Whether one turn is within the limit (its goodput check); a one-token turn has no ITL to break.</summary>
    public bool IsMetBy(RequestResult turn)
    {
        ArgumentNullException.ThrowIfNull(turn);
        double value = Metric switch
        {
            SloMetric.Ttft => turn.TimeToFirstToken,
            SloMetric.Itl => turn.InterTokenLatency,
            _ => turn.EndToEnd,
        };
        return double.IsNaN(value) ? Metric == SloMetric.Itl : value <= LimitSeconds;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Key}={FormatSeconds(LimitSeconds)}");

    internal static string FormatSeconds(double seconds) => seconds < 1
        ? string.Create(CultureInfo.InvariantCulture, $"{seconds * 1000:0.###}ms")
        : string.Create(CultureInfo.InvariantCulture, $"{seconds:0.###}s");
}

/// <summary>
/// The SLOs a capacity search holds every run to, in the load driver's <c>--slo</c> syntax
/// (<c>ttft-p99=5s,itl-p99=100ms,e2e-p99=30s</c>). Core keeps its own parser because src must not reference the
/// load driver; the syntax is the same for the latency keys Core can measure.
/// </summary>
public sealed class SloSet
{
    private const string Form = "KEY=LIMIT pairs separated by commas, KEY one of ttft|itl|e2e with -p50|-p90|-p95|-p99, LIMIT in ms or s (e.g. ttft-p99=5s,itl-p99=100ms)";

    private static readonly int[] Percentiles = [50, 90, 95, 99];

    public SloSet(IEnumerable<SloThreshold> thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        Thresholds = [.. thresholds];
        if (Thresholds.Count == 0)
        {
            throw new ArgumentException("an SLO set needs at least one threshold", nameof(thresholds));
        }
    }

    /// <summary>The thresholds in the order given; the first is the one a chart shows.</summary>
    public IReadOnlyList<SloThreshold> Thresholds { get; }

    /// <summary>Whether one turn met every threshold: the turns goodput counts.</summary>
    public bool IsMetBy(RequestResult turn) => Thresholds.All(t => t.IsMetBy(turn));

    public override string ToString() => string.Join(",", Thresholds);

    /// <summary>
    /// Parses <c>ttft-p99=5s,itl-p99=100ms</c>. Throws <see cref="FormatException"/> whose message names the item,
    /// key or value at fault and the form expected.
    /// </summary>
    public static SloSet Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var thresholds = new List<SloThreshold>();
        foreach (string raw in text.Split(','))
        {
            string item = raw.Trim();
            int eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                throw new FormatException($"--slo: '{item}' has no '=LIMIT'; expected {Form}.");
            }

            string key = item[..eq].Trim().ToLowerInvariant();
            string value = item[(eq + 1)..].Trim();
            var threshold = ParseKey(key) with { LimitSeconds = ParseLimit(key, value) };
            if (thresholds.Any(t => t.Key == threshold.Key))
            {
                throw new FormatException($"--slo: {threshold.Key} is given twice; give each key once.");
            }

            thresholds.Add(threshold);
        }

        return new SloSet(thresholds);
    }

    private static SloThreshold ParseKey(string key)
    {
        int dash = key.LastIndexOf('-');
        var metric = (dash > 0 ? key[..dash] : key) switch
        {
            "ttft" => SloMetric.Ttft,
            "itl" => SloMetric.Itl,
            "e2e" => SloMetric.E2e,
            _ => (SloMetric?)null,
        };
        string stat = dash > 0 ? key[(dash + 1)..] : "";
        bool known = stat.Length > 1 && stat[0] == 'p'
            && int.TryParse(stat.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int p) && Percentiles.Contains(p);
        if (metric is null || !known)
        {
            throw new FormatException($"--slo: key '{key}' is not known; expected {Form}.");
        }

        return new SloThreshold(metric.Value, int.Parse(stat.AsSpan(1), CultureInfo.InvariantCulture), 0);
    }

    private static double ParseLimit(string key, string value)
    {
        (string number, double unit) = value.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? (value[..^2], 1e-3)
            : value.EndsWith('s') || value.EndsWith('S') ? (value[..^1], 1.0)
            : ("", 0.0);
        if (unit == 0
            || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double amount)
            || !(amount > 0)
            || amount * unit > 86_400)
        {
            throw new FormatException($"--slo: {key} has limit '{value}'; expected a duration above 0 and at most 24 h in ms or s (e.g. 250ms, 5s).");
        }

        return amount * unit;
    }
}
