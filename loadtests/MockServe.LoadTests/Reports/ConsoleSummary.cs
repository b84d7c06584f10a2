namespace MockServe.LoadTests.Reports;

/// <summary>The end-of-run summary for the console, as plain aligned text (readable in CI logs too).</summary>
public static class ConsoleSummary
{
    /// <summary>Writes the summary, each scenario's latencies, the errors and the SLO verdicts.</summary>
    public static void Write(TextWriter writer, RunReport report)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(report);
        writer.WriteLine(report.ClockNote);
        ReportTables.Summary(report.Statistics).WritePlain(writer);
        foreach (var s in report.Statistics.Scenarios)
        {
            ReportTables.Latency(s).WritePlain(writer);
        }

        var errors = ReportTables.Errors(report.Statistics);
        if (errors.Rows.Count > 0)
        {
            errors.WritePlain(writer);
        }

        foreach (var verdict in report.Verdicts)
        {
            writer.WriteLine(verdict);
        }
    }
}
