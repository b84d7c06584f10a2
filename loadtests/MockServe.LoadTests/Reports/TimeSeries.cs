namespace MockServe.LoadTests.Reports;

/// <summary>
/// A series the runner sampled during the run, charted in <c>report.html</c>: users over time, or a metric scraped
/// from the server's <c>/metrics</c>. Series with the same <paramref name="Chart"/> share one chart, a line each.
/// </summary>
/// <param name="Chart">The chart's title, e.g. <c>Server: sequences decoding</c>.</param>
/// <param name="Name">The line's legend.</param>
/// <param name="Unit">The y axis label.</param>
/// <param name="Points">Moments from the run's start and their values, in time order.</param>
public sealed record TimeSeries(string Chart, string Name, string Unit, IReadOnlyList<TimeSeriesPoint> Points);

/// <summary>One sampled value.</summary>
/// <param name="At">The moment, from the run's start.</param>
/// <param name="Value">The value.</param>
public readonly record struct TimeSeriesPoint(TimeSpan At, double Value);
