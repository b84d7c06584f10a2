using System.Text;

namespace MockServe.LoadTests.Reports;

/// <summary>Writes the report files into a report directory.</summary>
public static class ReportWriter
{
    /// <summary>The Markdown report's file name.</summary>
    public const string MarkdownFile = "report.md";

    /// <summary>The CSV report's file name.</summary>
    public const string CsvFile = "report.csv";

    /// <summary>The per-request log's file name.</summary>
    public const string RequestsFile = "requests.jsonl";

    /// <summary>The HTML report's file name.</summary>
    public const string HtmlFile = "report.html";

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// Creates <paramref name="directory"/> if needed and writes report.md, report.csv, requests.jsonl and, unless
    /// <paramref name="html"/> is false, report.html into it.
    /// </summary>
    /// <returns>The paths written.</returns>
    public static IReadOnlyList<string> WriteAll(string directory, RunReport report, bool html = true)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(report);
        Directory.CreateDirectory(directory);
        var paths = new List<string>
        {
            Write(directory, MarkdownFile, w => MarkdownReport.Write(w, report)),
            Write(directory, CsvFile, w => CsvReport.Write(w, report.Statistics)),
            Write(directory, RequestsFile, w => RequestLog.Write(w, report.Samples)),
        };
        if (html)
        {
            paths.Add(Write(directory, HtmlFile, w => HtmlReport.Write(w, report)));
        }

        return paths;
    }

    private static string Write(string directory, string name, Action<TextWriter> write)
    {
        string path = Path.Combine(directory, name);
        using var writer = new StreamWriter(path, append: false, Utf8) { NewLine = "\n" };
        write(writer);
        return path;
    }
}
