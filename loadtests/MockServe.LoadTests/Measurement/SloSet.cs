using System.Globalization;

namespace MockServe.LoadTests.Measurement;

/// <summary>A set of SLO thresholds, from <c>--slo</c> or from code; a run breaks its SLOs when any threshold fails.</summary>
public sealed class SloSet
{
    private const string Form = "KEY=VALUE pairs separated by commas, e.g. ttft-p99=5s,itl-p99=100ms,error-rate=1%";

    /// <summary>No thresholds: every successful request counts for goodput, and every run passes.</summary>
    public static SloSet Empty { get; } = new([]);

    /// <summary>A set of these thresholds.</summary>
    public SloSet(IEnumerable<SloThreshold> thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        Thresholds = [.. thresholds];
    }

    /// <summary>The thresholds in the order given.</summary>
    public IReadOnlyList<SloThreshold> Thresholds { get; }

    /// <summary>Whether a request succeeded and met every threshold (its goodput check).</summary>
    public bool IsMetBy(RequestSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (!sample.Ok)
        {
            return false;
        }

        foreach (var threshold in Thresholds)
        {
            if (!threshold.IsMetBy(sample))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Every threshold judged on every scenario.</summary>
    public IReadOnlyList<SloVerdict> Evaluate(RunStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        return [.. statistics.Scenarios.SelectMany(s => Thresholds.Select(t => t.Evaluate(s)))];
    }

    /// <inheritdoc/>
    public override string ToString() => string.Join(",", Thresholds);

    /// <summary>
    /// Parses <c>ttft-p99=5s,itl-p99=100ms,e2e-p99=60s,error-rate=1%</c>: latency keys are a metric name
    /// (<see cref="MetricNames"/>), a dash and p50, p90, p95, p99, p99.9 or max, with a duration in ms, s or m;
    /// <c>error-rate</c> takes a percentage. Throws <see cref="FormatException"/> naming the key, the value and the allowed form.
    /// </summary>
    public static SloSet Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var thresholds = new List<SloThreshold>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (string raw in text.Split(','))
        {
            string item = raw.Trim();
            if (item.Length == 0)
            {
                throw new FormatException($"SLO '{text}' has an empty item; expected {Form}.");
            }

            int eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                throw new FormatException($"SLO '{item}' has no value; expected {Form}.");
            }

            string key = item[..eq].Trim().ToLowerInvariant();
            string value = item[(eq + 1)..].Trim();
            var threshold = ParseOne(key, value);
            if (!keys.Add(threshold.Key))
            {
                throw new FormatException($"SLO {threshold.Key} is given twice; give each key once.");
            }

            thresholds.Add(threshold);
        }

        return new SloSet(thresholds);
    }

    /// <summary>Like <see cref="Parse"/>, with the error as a message instead of an exception.</summary>
    public static bool TryParse(string text, out SloSet set, out string? error)
    {
        try
        {
            set = Parse(text);
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            set = Empty;
            error = e.Message;
            return false;
        }
    }

    private static SloThreshold ParseOne(string key, string value)
    {
        if (key == ErrorRateThreshold.KeyName)
        {
            return new ErrorRateThreshold(ParsePercent(key, value));
        }

        int dash = key.LastIndexOf('-');
        if (dash <= 0)
        {
            throw new FormatException(
                $"SLO key '{key}' is not known; expected METRIC-STAT with METRIC one of {MetricNames.AllNames} and STAT one of {PercentileNames.AllNames}, or error-rate.");
        }

        string metricName = key[..dash];
        string statName = key[(dash + 1)..];
        var metric = MetricNames.FromName(metricName)
            ?? throw new FormatException(
                $"SLO key '{key}' names an unknown metric '{metricName}'; expected one of {MetricNames.AllNames}.");
        var percentile = PercentileNames.FromName(statName)
            ?? throw new FormatException(
                $"SLO key '{key}' names an unknown statistic '{statName}'; expected {PercentileNames.AllNames}.");
        return new LatencyThreshold(metric, percentile, ParseDuration(key, value));
    }

    private static TimeSpan ParseDuration(string key, string value)
    {
        (string number, double unitSeconds) = value switch
        {
            _ when value.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (value[..^2], 0.001),
            _ when value.EndsWith('s') || value.EndsWith('S') => (value[..^1], 1.0),
            _ when value.EndsWith('m') || value.EndsWith('M') => (value[..^1], 60.0),
            _ => (string.Empty, 0.0),
        };
        if (unitSeconds == 0
            || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double amount)
            || amount <= 0
            || amount * unitSeconds > 86_400)
        {
            throw new FormatException(
                $"SLO {key} has value '{value}'; expected a duration above 0 and at most 24 h, a number with unit ms, s or m (e.g. 250ms, 5s, 1.5m).");
        }

        return TimeSpan.FromTicks((long)Math.Round(amount * unitSeconds * TimeSpan.TicksPerSecond));
    }

    private static double ParsePercent(string key, string value)
    {
        if (!value.EndsWith('%')
            || !double.TryParse(value[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double percent)
            || percent > 100)
        {
            throw new FormatException(
                $"SLO {key} has value '{value}'; expected a percentage from 0% to 100% (e.g. 1%, 0.5%).");
        }

        return percent / 100;
    }
}
