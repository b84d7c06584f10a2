using MockServe.LoadTests.Measurement;

using ScottPlot;

namespace MockServe.LoadTests.Reports;

/// <summary>The report's charts as PNG images (ScottPlot 5), drawn from the samples and statistics.</summary>
internal static class ReportCharts
{
    private const int Width = 900;
    private const int Height = 380;

    public static IReadOnlyList<(string Title, byte[] Png)> Draw(RunReport report)
    {
        var samples = report.Samples;
        var duration = report.Statistics.Duration > TimeSpan.Zero ? report.Statistics.Duration : TimeSpan.FromSeconds(1);
        var width = BucketWidth(duration);
        var scenarios = report.Statistics.Scenarios.Select(s => s.Scenario).ToArray();
        IEnumerable<(string Title, byte[] Png)> builtIn =
        [
            ("TTFT over time", OverTime("TTFT over time", "TTFT (ms)", samples, scenarios, s => s.Ttft)),
            ("ITL over time", OverTime("ITL over time", "ITL (ms)", samples, scenarios, s => s.Itl)),
            ("Throughput over time", Throughput(samples, ThroughputBucketWidth(duration), duration)),
            ("Requests in flight over time", InFlight(samples, width, duration)),
            ("TTFT distribution", Distribution(samples)),
            ("TTFT by cache state", ByCacheState(report.Statistics)),
        ];
        var extra = report.Series
            .GroupBy(s => s.Chart, StringComparer.Ordinal)
            .Select(g => (g.Key, Lines(g.Key, [.. g])));
        return [.. builtIn.Concat(extra)];
    }

    // About 120 buckets over the run, at least 100 ms each.
    internal static TimeSpan BucketWidth(TimeSpan duration) =>
        TimeSpan.FromMilliseconds(Math.Max(100, Math.Ceiling(duration.TotalMilliseconds / 120 / 100) * 100));

    // About 30 buckets, at least 500 ms each: completions are counted, and at the one or two a second of a chat
    // scenario, 120 sub-second buckets hold 0 or 1 each and the line only flips between 0 and its top.
    internal static TimeSpan ThroughputBucketWidth(TimeSpan duration) =>
        TimeSpan.FromMilliseconds(Math.Max(500, Math.Ceiling(duration.TotalMilliseconds / 30 / 100) * 100));

    // Three significant figures or so, so a 5 ms bar beside a 2 s one still reads.
    internal static string BarLabel(TimeSpan value)
    {
        double ms = value.TotalMilliseconds;
        string format = Math.Abs(ms) >= 100 ? "0" : Math.Abs(ms) >= 10 ? "0.0" : "0.00";
        return ms.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static byte[] OverTime(
        string title,
        string yLabel,
        IReadOnlyList<RequestSample> samples,
        string[] scenarios,
        Func<RequestSample, TimeSpan?> value)
    {
        var plot = new Plot();
        foreach (string scenario in scenarios)
        {
            var points = samples
                .Where(s => s.Ok && s.Scenario == scenario && value(s) is not null)
                .Select(s => (X: s.IntendedStart.TotalSeconds, Y: value(s)!.Value.TotalMilliseconds))
                .ToArray();
            if (points.Length == 0)
            {
                continue;
            }

            var scatter = plot.Add.ScatterPoints(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            scatter.LegendText = scenario;
            scatter.MarkerSize = 3;
        }

        return Finish(plot, title, "intended start (s)", yLabel);
    }

    private static byte[] Throughput(IReadOnlyList<RequestSample> samples, TimeSpan width, TimeSpan duration)
    {
        var plot = new Plot();
        var tokens = ChartData.OutputTokensPerSecond(samples, width, duration);
        var requests = ChartData.RequestsPerSecond(samples, width, duration);
        var tokenLine = plot.Add.Scatter(tokens.Seconds, tokens.Values);
        tokenLine.LegendText = "output tokens/s";
        tokenLine.MarkerSize = 0;
        var requestLine = plot.Add.Scatter(requests.Seconds, requests.Values);
        requestLine.LegendText = "requests/s (right axis)";
        requestLine.MarkerSize = 0;
        requestLine.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "requests/s";
        return Finish(plot, "Throughput over time", "time (s)", "output tokens/s");
    }

    private static byte[] InFlight(IReadOnlyList<RequestSample> samples, TimeSpan width, TimeSpan duration)
    {
        var plot = new Plot();
        var inFlight = ChartData.InFlight(samples, width, duration);
        var line = plot.Add.Scatter(inFlight.Seconds, inFlight.Values);
        line.LegendText = "requests in flight";
        line.MarkerSize = 0;
        return Finish(plot, "Requests in flight over time", "time (s)", "requests");
    }

    private static byte[] Lines(string title, IReadOnlyList<TimeSeries> series)
    {
        var plot = new Plot();
        foreach (var s in series.Where(s => s.Points.Count > 0))
        {
            var line = plot.Add.Scatter(s.Points.Select(p => p.At.TotalSeconds).ToArray(), s.Points.Select(p => p.Value).ToArray());
            line.LegendText = s.Name;
            line.MarkerSize = 0;
        }

        return Finish(plot, title, "time (s)", series[0].Unit);
    }

    private static byte[] Distribution(IReadOnlyList<RequestSample> samples)
    {
        var plot = new Plot();
        double[] ttfts = [.. samples.Where(s => s.Ok && s.Ttft is not null).Select(s => s.Ttft!.Value.TotalMilliseconds)];
        if (ttfts.Length > 0)
        {
            double min = ttfts.Min();
            double max = ttfts.Max();
            var histogram = ScottPlot.Statistics.Histogram.WithBinCount(40, min, max > min ? max : min + 1);
            histogram.AddRange(ttfts);
            plot.Add.Histogram(histogram);
        }

        return Finish(plot, "TTFT distribution", "TTFT (ms)", "requests");
    }

    private static byte[] ByCacheState(RunStatistics statistics)
    {
        var plot = new Plot();
        var states = statistics.Scenarios.SelectMany(s => s.ByCacheState.Keys).Distinct().Order().ToArray();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        double position = 0;
        foreach (var scenario in statistics.Scenarios)
        {
            foreach (var state in states)
            {
                if (!scenario.ByCacheState.TryGetValue(state, out var metrics) || !metrics.TryGetValue(Metric.Ttft, out var ttft))
                {
                    continue;
                }

                // Labelled: on one linear axis a hot turn's few ms sit beside a queued prefill's seconds, too low to see.
                bars.Add(new Bar { Position = position, Value = ttft.P50.TotalMilliseconds, FillColor = Colors.SteelBlue, Label = BarLabel(ttft.P50) });
                bars.Add(new Bar { Position = position + 0.4, Value = ttft.P99.TotalMilliseconds, FillColor = Colors.OrangeRed, Label = BarLabel(ttft.P99) });
                ticks.Add(new Tick(position + 0.2, statistics.Scenarios.Count > 1 ? $"{scenario.Scenario}\n{state.Name()}" : state.Name()));
                position += 1.2;
            }
        }

        if (bars.Count > 0)
        {
            foreach (var bar in bars)
            {
                bar.Size = 0.4;
            }

            plot.Add.Bars(bars);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "p50", FillColor = Colors.SteelBlue });
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "p99", FillColor = Colors.OrangeRed });
        }

        return Finish(plot, "TTFT by cache state", "cache state", "TTFT (ms)");
    }

    private static byte[] Finish(Plot plot, string title, string xLabel, string yLabel)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (plot.GetPlottables().Any())
        {
            plot.ShowLegend(Alignment.UpperRight);
        }

        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }
}
