using MockServe.LoadTests.Measurement;

using static MockServe.LoadTests.Reports.ReportFormat;

namespace MockServe.LoadTests.Reports;

/// <summary>The tables of a report; the Markdown report and the console summary render the same ones.</summary>
internal static class ReportTables
{
    // The server's queue and swap-in beside the client's view: where a turn's TTFT went, per turn and per cache state.
    private static readonly Metric[] BreakdownMetrics =
        [Metric.Ttft, Metric.Itl, Metric.E2e, Metric.WorstGap, Metric.ServerQueue, Metric.ServerSwapIn];

    // The client's metrics are wall time; the server's own breakdown comes in model time (wall = model × time scale).
    private const string Units = "ms; server-* in model time";

    public static TextTable Summary(RunStatistics statistics)
    {
        var table = new TextTable(
            $"Summary ({Rate(statistics.Duration.TotalSeconds)} s)",
            "scenario", "requests", "ok", "failed", "error rate", "req/s", "output tok/s",
            "goodput req/s", "good sessions", "goodput sessions/s", "cut at end", "driver dropped", "driver queued", "queue wait p99 ms");
        foreach (var s in statistics.Scenarios)
        {
            table.Add(
                s.Scenario,
                Count(s.Requests),
                Count(s.Succeeded),
                Count(s.Failed),
                Percent(s.ErrorRate),
                Rate(s.RequestsPerSecond),
                Rate(s.OutputTokensPerSecond),
                Rate(s.Goodput.RequestsPerSecond),
                $"{Count(s.Goodput.GoodSessions)}/{Count(s.Goodput.Sessions)}",
                Rate(s.Goodput.SessionsPerSecond),
                Count(s.Cut),
                Count(s.Driver.Dropped),
                Count(s.Driver.Queued),
                Ms(s.Driver.QueueWait?.P99));
        }

        return table;
    }

    /// <summary>The tables after the summary: each scenario's latency, by turn and by cache state; errors; SLOs when there are any.</summary>
    public static IEnumerable<TextTable> Details(RunReport report)
    {
        foreach (var s in report.Statistics.Scenarios)
        {
            yield return Latency(s);
            yield return ByTurn(s);
            yield return ByCacheState(s);
        }

        yield return Errors(report.Statistics);
        if (report.Verdicts.Count > 0)
        {
            yield return Slos(report.Verdicts);
        }
    }

    public static TextTable Latency(ScenarioStatistics s)
    {
        var table = new TextTable($"Latency ({Units}): {s.Scenario}", "metric", "count", "mean", "p50", "p90", "p95", "p99", "p99.9", "max");
        foreach (var (metric, stats) in s.Metrics.OrderBy(p => p.Key))
        {
            table.Add(
                metric.Name(),
                Count(stats.Count),
                Ms(stats.Mean),
                Ms(stats.P50),
                Ms(stats.P90),
                Ms(stats.P95),
                Ms(stats.P99),
                Ms(stats.P999),
                Ms(stats.Max));
        }

        return table;
    }

    public static TextTable ByTurn(ScenarioStatistics s) =>
        Breakdown($"By turn ({Units}): {s.Scenario}", "turn", s.ByTurn.OrderBy(p => p.Key).Select(p => (Count(p.Key), p.Value)));

    public static TextTable ByCacheState(ScenarioStatistics s) =>
        Breakdown($"By cache state ({Units}): {s.Scenario}", "cache state", s.ByCacheState.OrderBy(p => p.Key).Select(p => (p.Key.Name(), p.Value)));

    public static TextTable Errors(RunStatistics statistics)
    {
        var table = new TextTable("Errors", "scenario", "status", "count", "first message");
        foreach (var s in statistics.Scenarios)
        {
            foreach (var (status, count) in s.ErrorsByStatus)
            {
                table.Add(s.Scenario, status, Count(count), Shorten(s.FirstErrors.GetValueOrDefault(status, "")));
            }
        }

        return table;
    }

    public static TextTable Slos(IReadOnlyList<SloVerdict> verdicts)
    {
        var table = new TextTable("SLOs", "scenario", "threshold", "limit", "measured", "verdict");
        foreach (var v in verdicts)
        {
            table.Add(v.Scenario, v.Threshold.Key, v.Threshold.LimitText, v.Measured, v.Passed ? "PASS" : "FAIL");
        }

        return table;
    }

    // A message as long as a server may send would break the table's layout; the full text is in requests.jsonl.
    private static string Shorten(string message) =>
        message.Length <= MessageWidth ? message : string.Concat(message.AsSpan(0, MessageWidth - 3), "...");

    private const int MessageWidth = 120;

    private static TextTable Breakdown(
        string title,
        string keyHeader,
        IEnumerable<(string Key, IReadOnlyDictionary<Metric, LatencyStats> Metrics)> groups)
    {
        var headers = new List<string> { keyHeader, "requests" };
        foreach (var metric in BreakdownMetrics)
        {
            headers.Add($"{metric.Name()} p50");
            headers.Add($"{metric.Name()} p99");
        }

        var table = new TextTable(title, [.. headers]);
        foreach (var (key, metrics) in groups)
        {
            var cells = new List<string> { key, Count(metrics.TryGetValue(Metric.ScheduleLateness, out var all) ? all.Count : 0) };
            foreach (var metric in BreakdownMetrics)
            {
                metrics.TryGetValue(metric, out var stats);
                cells.Add(Ms(stats?.P50));
                cells.Add(Ms(stats?.P99));
            }

            table.Add([.. cells]);
        }

        return table;
    }
}
