using MockServe.LoadTests.Measurement;

using static MockServe.LoadTests.Reports.ReportFormat;

namespace MockServe.LoadTests.Reports;

/// <summary>Writes <c>report.csv</c>: one row per scenario and metric, latencies in milliseconds.</summary>
public static class CsvReport
{
    /// <summary>The header row.</summary>
    public const string Header = "scenario,metric,count,p50,p90,p95,p99,p999,max,unit";

    /// <summary>Writes the header and a row for every metric of every scenario that has values.</summary>
    public static void Write(TextWriter writer, RunStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(statistics);
        writer.WriteLine(Header);
        foreach (var s in statistics.Scenarios)
        {
            foreach (var (metric, stats) in s.Metrics.OrderBy(p => p.Key))
            {
                writer.WriteLine(string.Join(
                    ',',
                    Quote(s.Scenario),
                    metric.Name(),
                    Count(stats.Count),
                    Ms(stats.P50),
                    Ms(stats.P90),
                    Ms(stats.P95),
                    Ms(stats.P99),
                    Ms(stats.P999),
                    Ms(stats.Max),
                    "ms"));
            }
        }
    }

    // RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
