namespace MockServe.LoadTests.Reports;

/// <summary>Writes <c>report.md</c>: summary, latency per scenario, per turn, per cache state, errors and SLO verdicts.</summary>
public static class MarkdownReport
{
    /// <summary>Writes the report as Markdown.</summary>
    public static void Write(TextWriter writer, RunReport report)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(report);
        writer.WriteLine("# mockserve-load report");
        writer.WriteLine();
        writer.WriteLine(
            "TTFT and E2E count from the moment the load simulation meant each request to start (client-side queueing included); "
            + "ttft-actual counts from the moment the call started; lateness is their difference. "
            + "ITL = (E2E - TTFT) / (output tokens - 1). gap pools every gap between chunks; worst-gap is each request's longest. "
            + "Latencies count successful requests; lateness counts all. Percentiles are HdrHistogram's (3 significant digits), max is exact. "
            + report.ClockNote);
        writer.WriteLine();
        if (report.Verdicts.Count > 0)
        {
            writer.WriteLine(report.SlosPassed ? "**SLOs: all held.**" : "**SLOs: broken.**");
            writer.WriteLine();
        }

        ReportTables.Summary(report.Statistics).WriteMarkdown(writer);
        foreach (var table in ReportTables.Details(report))
        {
            table.WriteMarkdown(writer);
        }
    }
}
