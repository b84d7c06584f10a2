using System.Globalization;

namespace MockServe.LoadTests.Measurement;

/// <summary>One SLO: a limit on a statistic of the final results, and the matching check of a single request for goodput.</summary>
public abstract record SloThreshold
{
    /// <summary>The threshold's key as <c>--slo</c> writes it: <c>ttft-p99</c>, <c>error-rate</c>...</summary>
    public abstract string Key { get; }

    /// <summary>The limit as <c>--slo</c> writes it: <c>5s</c>, <c>1%</c>...</summary>
    public abstract string LimitText { get; }

    /// <summary>Judges a scenario's final statistics.</summary>
    public abstract SloVerdict Evaluate(ScenarioStatistics statistics);

    /// <summary>Whether one successful request met this threshold (goodput); true where the metric does not apply to it.</summary>
    public abstract bool IsMetBy(RequestSample sample);

    /// <summary>The threshold as <c>--slo</c> writes it: <c>ttft-p99=5s</c>.</summary>
    public sealed override string ToString() => $"{Key}={LimitText}";

    internal static string FormatDuration(TimeSpan value) =>
        value.TotalSeconds >= 1
            ? value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s"
            : value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
}

/// <summary>A limit on a latency statistic, such as <c>ttft-p99=5s</c>: the statistic must not exceed the limit.</summary>
public sealed record LatencyThreshold(Metric Metric, Percentile Percentile, TimeSpan Limit) : SloThreshold
{
    /// <inheritdoc/>
    public override string Key => $"{Metric.Name()}-{Percentile.Name()}";

    /// <inheritdoc/>
    public override string LimitText => FormatDuration(Limit);

    /// <inheritdoc/>
    public override SloVerdict Evaluate(ScenarioStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        if (!statistics.Metrics.TryGetValue(Metric, out var stats))
        {
            // Nothing measured cannot show the limit held: a run whose every request failed must not pass a latency SLO.
            return new SloVerdict(this, statistics.Scenario, false, "no values");
        }

        var measured = stats.Get(Percentile);
        return new SloVerdict(this, statistics.Scenario, measured <= Limit, FormatDuration(measured));
    }

    /// <inheritdoc/>
    public override bool IsMetBy(RequestSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);

        // Every gap of a request is within the limit when its worst one is.
        var value = Metric == Metric.ChunkGap ? sample.WorstGap : sample.ValueOf(Metric);
        return value is not { } v || v <= Limit;
    }
}

/// <summary>A limit on the share of failed requests, such as <c>error-rate=1%</c>.</summary>
/// <param name="Limit">The largest allowed share, from 0 to 1.</param>
public sealed record ErrorRateThreshold(double Limit) : SloThreshold
{
    /// <summary>The key of this threshold.</summary>
    public const string KeyName = "error-rate";

    /// <inheritdoc/>
    public override string Key => KeyName;

    /// <inheritdoc/>
    public override string LimitText => FormatPercent(Limit);

    /// <inheritdoc/>
    public override SloVerdict Evaluate(ScenarioStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        return new SloVerdict(this, statistics.Scenario, statistics.ErrorRate <= Limit, FormatPercent(statistics.ErrorRate));
    }

    /// <inheritdoc/>
    public override bool IsMetBy(RequestSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return sample.Ok;
    }

    internal static string FormatPercent(double fraction) =>
        (fraction * 100).ToString("0.###", CultureInfo.InvariantCulture) + "%";
}

/// <summary>The verdict of one threshold on one scenario.</summary>
/// <param name="Threshold">The threshold judged.</param>
/// <param name="Scenario">The scenario judged.</param>
/// <param name="Passed">Whether the measured value is within the limit.</param>
/// <param name="Measured">The measured value, written like the limit.</param>
public sealed record SloVerdict(SloThreshold Threshold, string Scenario, bool Passed, string Measured)
{
    /// <summary>A line for the console and the report: <c>FAIL long-context-chat ttft-p99: measured 7.2s, limit 5s</c>.</summary>
    public override string ToString() =>
        $"{(Passed ? "PASS" : "FAIL")} {Scenario} {Threshold.Key}: measured {Measured}, limit {Threshold.LimitText}";
}
