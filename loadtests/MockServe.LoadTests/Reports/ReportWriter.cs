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

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Creates <paramref name="directory"/> if needed and writes report.md, report.csv and requests.jsonl into it.</summary>
    /// <returns>The paths written.</returns>
    public static IReadOnlyList<string> WriteAll(string directory, RunReport report)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(report);
        Directory.CreateDirectory(directory);
        return
        [
            Write(directory, MarkdownFile, w => MarkdownReport.Write(w, report)),
            Write(directory, CsvFile, w => CsvReport.Write(w, report.Statistics)),
            Write(directory, RequestsFile, w => RequestLog.Write(w, report.Samples)),
        ];
    }

    private static string Write(string directory, string name, Action<TextWriter> write)
    {
        string path = Path.Combine(directory, name);
        using var writer = new StreamWriter(path, append: false, Utf8) { NewLine = "\n" };
        write(writer);
        return path;
    }
}
