using System.Net;
using System.Text.RegularExpressions;

using Microsoft.Extensions.Time.Testing;

using MockServe.LoadTests.Cli;
using MockServe.LoadTests.Dashboards;

namespace MockServe.LoadTests.Tests.Dashboards;

public sealed class DashboardCommandTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_900);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("mockserve-dashboard-");
    private readonly StringWriter _output = new();
    private readonly StringWriter _error = new();

    public DashboardCommandTests() => File.WriteAllText(DashboardFile, GrafanaDashboardTests.Sample);

    private string DashboardFile => Path.Combine(_dir.FullName, "dashboard.json");

    private string Out => Path.Combine(_dir.FullName, "out");

    public void Dispose() => _dir.Delete(recursive: true);

    // Panels 2 (running) and 3 (users that fit) get data; 5 (tokens/s) and 7 (in flight) an empty matrix.
    private static FakePrometheus TwoPanelsWithData() => new FakePrometheus()
        .Answer("mockserve_requests_running", FakePrometheus.Matrix(("{\"instance\":\"a:9464\"}", [(1_700_000_000, "1"), (1_700_000_010, "3")])))
        .Answer("mockserve_max_concurrent_users", FakePrometheus.Matrix(("{}", [(1_700_000_000, "40"), (1_700_000_010, "42")])));

    private Task<int> Run(FakePrometheus prometheus, bool requireData = false, string from = "now-15m", string? step = "10s") =>
        DashboardCommand.RunAsync(
            new DashboardRequest("http://prom:9090", DashboardFile, Out, From: from, Step: step, RequireData: requireData),
            prometheus,
            new FakeTimeProvider(Now),
            _output,
            _error,
            CancellationToken.None);

    [Fact]
    public async Task RunAsync_RequireDataWithEmptyPanels_ExitOneNamingThem()
    {
        int exit = await Run(TwoPanelsWithData(), requireData: true);

        Assert.Equal(1, exit);
        Assert.Equal("error: --require-data: no data in 5 \"Tokens/s\", 7 \"In flight\"" + Environment.NewLine, _error.ToString());
        Assert.Contains("no data in 2 of 4 panels: 5 \"Tokens/s\", 7 \"In flight\"", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_EmptyPanelsWithoutRequireData_ExitZeroStillListingThem()
    {
        int exit = await Run(TwoPanelsWithData());

        Assert.Equal(0, exit);
        Assert.Equal("", _error.ToString());
        Assert.Contains("no data in 2 of 4 panels: 5 \"Tokens/s\", 7 \"In flight\"", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_EveryPanelWithData_ExitZeroWithRequireData()
    {
        var prometheus = new FakePrometheus().Answer("mockserve", FakePrometheus.Matrix(("{}", [(1_700_000_000, "1")])));

        int exit = await Run(prometheus, requireData: true);

        Assert.Equal(0, exit);
        Assert.Contains("every panel with a query has data", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_WritesAPngPerPanelNamedByIdAndTitle()
    {
        await Run(TwoPanelsWithData());

        string[] files = [.. Directory.GetFiles(Path.Combine(Out, "panels")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        Assert.Equal(["2-running.png", "3-users-that-fit.png", "5-tokens-s.png", "7-in-flight.png"], files);
        // Every one a PNG: the 8-byte signature 89 50 4E 47 0D 0A 1A 0A.
        Assert.All(files, f => Assert.Equal([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], File.ReadAllBytes(Path.Combine(Out, "panels", f!)).Take(8)));
    }

    [Fact]
    public async Task RunAsync_Html_OneImagePerPanelAtItsGridPosition()
    {
        await Run(TwoPanelsWithData());

        string html = await File.ReadAllTextAsync(Path.Combine(Out, "dashboard.html"));
        var images = Regex.Matches(html, "<img id=\"panel-(\\d+)\"[^>]* style=\"([^\"]*)\" src=\"data:image/png;base64,").Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        // CSS grid lines count from 1: gridPos x 12, w 12 is column 13 spanning 12. Panel 5 sits under the collapsed
        // row 4 (y 9) at y 10; gauge 7 was pushed from y 11 to 17 by panel 5's 6 rows.
        Assert.Equal(
            [
                ("2", "grid-column:1 / span 12;grid-row:2 / span 8"),
                ("3", "grid-column:13 / span 12;grid-row:2 / span 8"),
                ("5", "grid-column:1 / span 24;grid-row:11 / span 6"),
                ("7", "grid-column:1 / span 6;grid-row:18 / span 4"),
            ],
            images);
        Assert.Equal(4, Regex.Count(html, "<img "));
        Assert.Contains("<h2 style=\"grid-column:1 / span 24;grid-row:10 / span 1\">Decoding</h2>", html, StringComparison.Ordinal);
        Assert.Contains("grid-template-columns:repeat(24,minmax(0,1fr))", html, StringComparison.Ordinal);
        Assert.Contains("No data: 5 &quot;Tokens/s&quot;, 7 &quot;In flight&quot;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_QueriesWithVariablesRangeAndStepSubstituted()
    {
        var prometheus = TwoPanelsWithData();

        await Run(prometheus, from: "now-5m", step: "10s");

        // From now-5m to now: 1700000600 to 1700000900, 300 s. Step 10 s, scrape 15 s: $__rate_interval max(25, 60) = 60s.
        Assert.All(prometheus.Requests, r => Assert.Equal(("1700000600", "1700000900", "10"), (r.Form["start"], r.Form["end"], r.Form["step"])));
        Assert.Equal(
            [
                @"mockserve_requests_running{instance=~""(127\\.0\\.0\\.1:9464|127\\.0\\.0\\.1:9465)""}",
                "mockserve_max_concurrent_users",
                "rate(mockserve_generation_tokens_total[60s])",
                "sum(mockserve_client_requests_in_flight)",
            ],
            prometheus.Requests.Select(r => r.Form["query"]));
    }

    [Fact]
    public async Task RunAsync_PrometheusRefusesAQuery_ExitOneNamingPanelAndQuery()
    {
        var prometheus = TwoPanelsWithData()
            .Answer("in_flight", """{"status":"error","errorType":"bad_data","error":"unknown function"}""", HttpStatusCode.BadRequest);

        int exit = await Run(prometheus);

        Assert.Equal(1, exit);
        Assert.Equal("error: panel 7 \"In flight\", query A `sum(mockserve_client_requests_in_flight)`: HTTP 400, bad_data: unknown function" + Environment.NewLine, _error.ToString());
        Assert.True(File.Exists(Path.Combine(Out, "dashboard.html")));
    }

    [Fact]
    public async Task RunAsync_BadFlags_ExitTwoNamingEachBeforeAnyQuery()
    {
        var prometheus = new FakePrometheus();

        int exit = await DashboardCommand.RunAsync(
            new DashboardRequest("127.0.0.1:9090", Path.Combine(_dir.FullName, "missing.json"), Out, From: "yesterday", Step: "fast", Variables: ["instance"]),
            prometheus,
            new FakeTimeProvider(Now),
            _output,
            _error,
            CancellationToken.None);

        Assert.Equal(2, exit);
        string text = _error.ToString();
        Assert.Contains("error: --from is \"yesterday\": expected now, now-15m, -15m, an RFC 3339 time such as 2025-01-02T03:04:05Z, or unix seconds", text, StringComparison.Ordinal);
        Assert.Contains("error: --step is \"fast\": expected a duration from 1ms to 7d, such as 5s or 1m", text, StringComparison.Ordinal);
        Assert.Contains("error: --var is \"instance\": expected name=value, such as instance=127.0.0.1:9464", text, StringComparison.Ordinal);
        Assert.Contains("error: --prometheus is \"127.0.0.1:9090\": expected an address such as http://127.0.0.1:9090", text, StringComparison.Ordinal);
        Assert.Contains("error: --dashboard " + Path.Combine(_dir.FullName, "missing.json") + ": ", text, StringComparison.Ordinal);
        Assert.Empty(prometheus.Requests);
    }

    [Fact]
    public async Task RunAsync_NoStep_AboutThreeHundredPointsInWholeSeconds()
    {
        var prometheus = TwoPanelsWithData();

        await Run(prometheus, from: "now-1h", step: null);

        // 3600 s / 300 = 12 s.
        Assert.Equal("12", prometheus.Requests[0].Form["step"]);
    }

    [Theory]
    [InlineData("now", 1_700_000_900)]
    [InlineData("now-15m", 1_700_000_000)]
    [InlineData("-90s", 1_700_000_810)]
    [InlineData("1700000123", 1_700_000_123)]
    [InlineData("2023-11-14T22:13:20Z", 1_700_000_000)]
    [InlineData("2023-11-14T23:13:20+01:00", 1_700_000_000)]
    public void ParseTime_RelativeRfc3339OrUnix(string text, long unix)
    {
        var problems = new List<string>();

        var at = DashboardCommand.ParseTime("--from", text, Now, problems);

        Assert.Empty(problems);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(unix), at);
    }

    [Fact]
    public void LoadCli_DashboardWithoutRequiredFlags_ExitsNonZeroNamingThem()
    {
        var error = new StringWriter();

        int exit = LoadCli.Run(["dashboard", "--prometheus", "http://127.0.0.1:9"], new StringWriter(), error);

        Assert.NotEqual(0, exit);
        Assert.Contains("--dashboard", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("--out", error.ToString(), StringComparison.Ordinal);
    }
}
