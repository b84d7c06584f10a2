namespace MockServe.LoadTests.Reports;

/// <summary>A titled table of text cells, rendered as Markdown for <c>report.md</c> or as aligned plain text for the console.</summary>
internal sealed class TextTable(string title, params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public string Title { get; } = title;

    public IReadOnlyList<string> Headers { get; } = headers;

    public IReadOnlyList<string[]> Rows => _rows;

    public TextTable Add(params string[] cells)
    {
        if (cells.Length != Headers.Count)
        {
            throw new ArgumentException($"Row has {cells.Length} cells, the table {Headers.Count} columns.", nameof(cells));
        }

        _rows.Add(cells);
        return this;
    }

    public void WriteMarkdown(TextWriter writer)
    {
        writer.WriteLine($"## {Title}");
        writer.WriteLine();
        writer.WriteLine($"| {string.Join(" | ", Headers.Select(Escape))} |");
        writer.WriteLine($"|{string.Concat(Headers.Select((_, i) => i == 0 ? " --- |" : " ---: |"))}");
        foreach (var row in _rows)
        {
            writer.WriteLine($"| {string.Join(" | ", row.Select(Escape))} |");
        }

        writer.WriteLine();
    }

    public void WriteHtml(TextWriter writer)
    {
        writer.WriteLine($"<h2>{Html(Title)}</h2>");
        writer.WriteLine("<table>");
        writer.WriteLine($"<thead><tr>{string.Concat(Headers.Select(h => $"<th>{Html(h)}</th>"))}</tr></thead>");
        writer.WriteLine("<tbody>");
        foreach (var row in _rows)
        {
            writer.WriteLine($"<tr>{string.Concat(row.Select(c => $"<td>{Html(c)}</td>"))}</tr>");
        }

        writer.WriteLine("</tbody></table>");
    }

    public void WritePlain(TextWriter writer)
    {
        int[] widths = [.. Headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max())];
        writer.WriteLine(Title);
        WritePlainRow(writer, [.. Headers], widths);
        writer.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in _rows)
        {
            WritePlainRow(writer, row, widths);
        }

        writer.WriteLine();
    }

    private static void WritePlainRow(TextWriter writer, string[] cells, int[] widths) =>
        writer.WriteLine(string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd());

    private static string Html(string text) => System.Net.WebUtility.HtmlEncode(text);

    private static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal);
}
