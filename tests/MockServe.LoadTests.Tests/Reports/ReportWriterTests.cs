using System.Text.Json;

using MockServe.LoadTests.Reports;

namespace MockServe.LoadTests.Tests.Reports;

public sealed class ReportWriterTests
{
    [Fact]
    public void WriteAll_NewDirectory_WritesTheFourFiles()
    {
        using var temp = new TempDirectory();
        string dir = Path.Combine(temp.Path, "out", "run-1");

        var paths = ReportWriter.WriteAll(dir, ReportFixture.Build());

        Assert.Equal(
            ["report.md", "report.csv", "requests.jsonl", "report.html"],
            paths.Select(Path.GetFileName));
        Assert.All(paths, p => Assert.True(new FileInfo(p).Length > 0, p));
    }

    [Fact]
    public void WriteAll_HtmlOff_WritesNoHtml()
    {
        using var temp = new TempDirectory();

        var paths = ReportWriter.WriteAll(temp.Path, ReportFixture.Build(), html: false);

        Assert.Equal(3, paths.Count);
        Assert.False(File.Exists(Path.Combine(temp.Path, ReportWriter.HtmlFile)));
    }

    [Fact]
    public void WriteAll_RequestsFile_EachLineParsesWithSnakeCaseFields()
    {
        using var temp = new TempDirectory();
        ReportWriter.WriteAll(temp.Path, ReportFixture.Build());

        string[] lines = File.ReadAllLines(Path.Combine(temp.Path, ReportWriter.RequestsFile));

        Assert.Equal(4, lines.Length);
        var first = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("chat", first.GetProperty("scenario").GetString());
        Assert.Equal("s-1", first.GetProperty("session_id").GetString());
        Assert.Equal(3, first.GetProperty("copy").GetInt32());

        // Meant at 1,000 ms, started 1,002, first token 1,500, last 2,400: TTFT 500, from actual 498, lateness 2,
        // E2E 1,400, ITL (1400 - 500) / 9 = 100 ms, worst of the gaps 100 and 300 = 300.
        Assert.Equal(500, first.GetProperty("ttft_ms").GetDouble());
        Assert.Equal(498, first.GetProperty("ttft_actual_ms").GetDouble());
        Assert.Equal(2, first.GetProperty("lateness_ms").GetDouble());
        Assert.Equal(1_400, first.GetProperty("e2e_ms").GetDouble());
        Assert.Equal(100, first.GetProperty("itl_ms").GetDouble());
        Assert.Equal(300, first.GetProperty("worst_gap_ms").GetDouble());
        Assert.Equal(2, first.GetProperty("gaps").GetInt32());
        Assert.Equal("new", first.GetProperty("cache_state").GetString());
        Assert.Equal(480, first.GetProperty("server_prefill_ms").GetDouble());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("latency_ms").ValueKind);

        var failed = JsonDocument.Parse(lines[2]).RootElement;
        Assert.Equal("ResourceExhausted", failed.GetProperty("status").GetString());
        Assert.False(failed.GetProperty("ok").GetBoolean());
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("ttft_ms").ValueKind);
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("server_queue_ms").ValueKind);
    }

    [Fact]
    public void WriteAll_RequestsFile_EveryLineHasTheSameFields()
    {
        using var temp = new TempDirectory();
        ReportWriter.WriteAll(temp.Path, ReportFixture.Build());

        var fieldSets = File.ReadAllLines(Path.Combine(temp.Path, ReportWriter.RequestsFile))
            .Select(l => string.Join(",", JsonDocument.Parse(l).RootElement.EnumerateObject().Select(p => p.Name)))
            .Distinct()
            .ToArray();

        string fields = Assert.Single(fieldSets);
        Assert.All(fields.Split(','), f => Assert.Matches("^[a-z0-9_]+$", f));
    }

    [Fact]
    public void WriteAll_CsvFile_HasHeaderAndARowPerScenarioAndMetric()
    {
        using var temp = new TempDirectory();
        ReportWriter.WriteAll(temp.Path, ReportFixture.Build());

        string[] lines = File.ReadAllLines(Path.Combine(temp.Path, ReportWriter.CsvFile));

        Assert.Equal("scenario,metric,count,p50,p90,p95,p99,p999,max,unit", lines[0]);
        var chat = lines.Skip(1).Where(l => l.StartsWith("chat,", StringComparison.Ordinal)).Select(l => l.Split(',')).ToArray();
        Assert.All(chat, cells => Assert.Equal(10, cells.Length));

        // Chat's metrics with values: ttft, ttft-actual, itl, e2e, gap, worst-gap (successes), lateness (all three)
        // and the server's breakdown (turn 0 alone sent one).
        Assert.Equal(
            ["ttft", "ttft-actual", "itl", "e2e", "gap", "worst-gap", "lateness", "server-queue", "server-swap-in", "server-prefill", "server-decode"],
            chat.Select(c => c[1]));
        Assert.Equal("1", chat.Single(c => c[1] == "server-prefill")[2]);
        Assert.Equal("480", chat.Single(c => c[1] == "server-prefill")[8]);
        var ttft = chat[0];
        Assert.Equal("2", ttft[2]);
        Assert.Equal("500", ttft[8]); // max TTFT: turn 0's 500 ms (turn 1's is 100)
        Assert.Equal("ms", ttft[9]);
        var lateness = chat.Single(c => c[1] == "lateness");
        Assert.Equal("3", lateness[2]);
    }

    [Fact]
    public void WriteAll_CsvFile_QuotesScenarioWithCommaAndQuotes()
    {
        using var temp = new TempDirectory();
        ReportWriter.WriteAll(temp.Path, ReportFixture.Build());

        string[] lines = File.ReadAllLines(Path.Combine(temp.Path, ReportWriter.CsvFile));

        Assert.Contains("\"batch, \"\"nightly\"\"\",latency,1,20,20,20,20,20,20,ms", lines);
    }

    [Fact]
    public void WriteAll_MarkdownFile_ContainsEveryTable()
    {
        using var temp = new TempDirectory();
        ReportWriter.WriteAll(temp.Path, ReportFixture.Build());

        string md = File.ReadAllText(Path.Combine(temp.Path, ReportWriter.MarkdownFile));

        Assert.StartsWith("# mockserve-load report", md, StringComparison.Ordinal);
        Assert.Contains("## Summary (10 s)", md, StringComparison.Ordinal);
        Assert.Contains("## Latency (ms; server-* in model time): chat", md, StringComparison.Ordinal);
        Assert.Contains("## By turn (ms; server-* in model time): chat", md, StringComparison.Ordinal);
        Assert.Contains("## By cache state (ms; server-* in model time): chat", md, StringComparison.Ordinal);
        Assert.Contains("## Errors", md, StringComparison.Ordinal);
        Assert.Contains("## SLOs", md, StringComparison.Ordinal);

        // chat: 3 requests, 2 ok, 1 failed (33.333%); 2 / 10 s = 0.2 req/s; (10 + 6) tokens / 10 s = 1.6 tok/s;
        // both successes met ttft <= 1 s: 0.2 goodput/s; session s-1's two turns met: 1/1 sessions, 0.1/s; none cut.
        Assert.Contains("| chat | 3 | 2 | 1 | 33.333% | 0.2 | 1.6 | 0.2 | 1/1 | 0.1 | 0 | 0 | 0 | - |", md, StringComparison.Ordinal);
        Assert.Contains("| chat | ResourceExhausted | 1 |", md, StringComparison.Ordinal);

        // Turn 0 (new): TTFT 500, ITL 100, E2E 1,400, worst gap 300, server queue 10, swap-in 0; turn 1 sent no timing.
        Assert.Contains("| new | 1 | 500 | 500 | 100 | 100 | 1400 | 1400 | 300 | 300 | 10 | 10 | 0 | 0 |", md, StringComparison.Ordinal);
        Assert.Contains("| hot | 1 | 100 | 100 | 100 | 100 | 600 | 600 | - | - | - | - | - | - |", md, StringComparison.Ordinal);

        // error rate 1 of 3 breaks 10%; TTFT p99 (500 ms, within HdrHistogram's 0.1%) holds 1 s.
        Assert.Contains("| chat | error-rate | 10% | 33.333% | FAIL |", md, StringComparison.Ordinal);
        Assert.Matches(@"\| chat \| ttft-p99 \| 1s \| 500(\.\d+)?ms \| PASS \|", md);
        Assert.Contains("**SLOs: broken.**", md, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteAll_MarkdownFile_TablesHaveAsManyCellsAsHeaders()
    {
        using var temp = new TempDirectory();
        ReportWriter.WriteAll(temp.Path, ReportFixture.Build());

        var tableLines = File.ReadAllLines(Path.Combine(temp.Path, ReportWriter.MarkdownFile))
            .Append(string.Empty)
            .ToArray();

        int? columns = null;
        foreach (string line in tableLines)
        {
            if (!line.StartsWith('|'))
            {
                columns = null;
                continue;
            }

            int cells = line.Replace("\\|", string.Empty, StringComparison.Ordinal).Count(c => c == '|') - 1;
            columns ??= cells;
            Assert.Equal(columns, cells);
        }
    }

    [Fact]
    public void ConsoleSummary_Report_ShowsScenariosLatencyAndVerdicts()
    {
        var writer = new StringWriter();

        ConsoleSummary.Write(writer, ReportFixture.Build());

        string text = writer.ToString();
        Assert.Contains("Summary (10 s)", text, StringComparison.Ordinal);
        Assert.Contains("Latency (ms; server-* in model time): chat", text, StringComparison.Ordinal);
        Assert.Contains("FAIL chat error-rate: measured 33.333%, limit 10%", text, StringComparison.Ordinal);
        Assert.DoesNotContain("|", text.Replace("batch, \"nightly\"", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void ConsoleSummary_Columns_AreAligned()
    {
        var writer = new StringWriter();

        ConsoleSummary.Write(writer, ReportFixture.Build());

        // In the latency table, every row's last column (max) ends where the header's "max" ends.
        string[] lines = writer.ToString().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        int title = Array.IndexOf(lines, "Latency (ms; server-* in model time): chat");
        string header = lines[title + 1];
        Assert.EndsWith("max", header, StringComparison.Ordinal);
        for (int i = title + 3; lines[i].Length > 0; i++)
        {
            Assert.Equal(header.Length, lines[i].Length);
        }
    }
}
