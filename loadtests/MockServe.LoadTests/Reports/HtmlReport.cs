namespace MockServe.LoadTests.Reports;

/// <summary>
/// Writes <c>report.html</c>: one self-contained file (charts embedded as base64 PNG, no script, no external
/// resource) with the charts and the same tables as <c>report.md</c>.
/// </summary>
public static class HtmlReport
{
    private const string Style =
        "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}"
        + "th,td{border:1px solid #ccc;padding:2px 8px;text-align:right}th:first-child,td:first-child{text-align:left}"
        + ".charts{display:flex;flex-wrap:wrap;gap:1.5em;margin-bottom:1.5em}.charts img{display:block;max-width:100%}"
        + ".fail{color:#b00;font-weight:bold}.pass{color:#070;font-weight:bold}";

    /// <summary>Writes the report as HTML.</summary>
    public static void Write(TextWriter writer, RunReport report)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(report);
        writer.WriteLine("<!DOCTYPE html>");
        writer.WriteLine("<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mockserve-load report</title>");
        writer.WriteLine($"<style>{Style}</style></head><body>");
        writer.WriteLine("<h1>mockserve-load report</h1>");
        writer.WriteLine($"<p>{System.Net.WebUtility.HtmlEncode(report.ClockNote)}</p>");
        if (report.Verdicts.Count > 0)
        {
            writer.WriteLine(report.SlosPassed
                ? "<p class=\"pass\">SLOs: all held.</p>"
                : "<p class=\"fail\">SLOs: broken.</p>");
        }

        ReportTables.Summary(report.Statistics).WriteHtml(writer);
        // Side by side where the window is wide enough.
        writer.WriteLine("<div class=\"charts\">");
        foreach (var (title, png) in ReportCharts.Draw(report))
        {
            writer.WriteLine($"<img alt=\"{System.Net.WebUtility.HtmlEncode(title)}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\">");
        }

        writer.WriteLine("</div>");

        foreach (var table in ReportTables.Details(report))
        {
            table.WriteHtml(writer);
        }

        writer.WriteLine("</body></html>");
    }
}
