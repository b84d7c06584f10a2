using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using MockServe.Contracts.V1;
using MockServe.Server.Tests.Integration;

namespace MockServe.Server.Tests.Observability;

/// <summary>
/// grafana/dashboards/mockserve.json against what really exists: the provisioned datasource, unique panel ids, and
/// every metric name an expression uses exported by the server, the load driver or a recording rule.
/// </summary>
[Collection(TestServer.Collection)]
public sealed partial class DashboardTests
{
    private const string DatasourceUid = "mockserve-prometheus";

    private static readonly string Root = FindRoot();

    [Fact]
    public void Dashboard_Parsed_PanelIdsAreUnique()
    {
        var ids = Panels(LoadDashboard()).Select(p => (int)p["id"]!).ToList();

        Assert.NotEmpty(ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Dashboard_EveryTargetAndVariable_UsesTheProvisionedDatasource()
    {
        var dashboard = LoadDashboard();
        var wrong = Panels(dashboard)
            .SelectMany(p => Targets(p).Select(t => (Where: $"panel {p["id"]} '{p["title"]}' {t["refId"]}", Uid: (string?)t["datasource"]?["uid"])))
            .Concat(dashboard["templating"]!["list"]!.AsArray().Select(v => (Where: $"variable {v!["name"]}", Uid: (string?)v!["datasource"]?["uid"])))
            .Where(x => x.Uid != DatasourceUid)
            .Select(x => $"{x.Where}: {x.Uid ?? "no datasource"}")
            .ToList();

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Contains($"uid: {DatasourceUid}", File.ReadAllText(Path.Combine(Root, "grafana", "provisioning", "datasources", "prometheus.yml")));
    }

    [Fact]
    public async Task Dashboard_EveryMetricName_IsExportedOrRecorded()
    {
        var known = await KnownNamesAsync();

        var unknown = UnknownNames(LoadDashboard(), known);

        Assert.True(unknown.Count == 0, string.Join("\n", unknown));
    }

    [Fact]
    public async Task UnknownNames_TypoInAnExpression_NamesThePanelAndTheName()
    {
        var known = await KnownNamesAsync();
        var dashboard = LoadDashboard();
        var prefill = Panels(dashboard).First(p => (string?)p["title"] == "Prefill tokens per model second, against peak");
        var target = Targets(prefill).First();
        target["expr"] = ((string)target["expr"]!).Replace("mockserve:prefill_tokens", "mockserve:prefil_tokens", StringComparison.Ordinal);

        var unknown = UnknownNames(dashboard, known);

        string line = Assert.Single(unknown);
        Assert.Contains($"panel {prefill["id"]} 'Prefill tokens per model second, against peak'", line, StringComparison.Ordinal);
        Assert.Contains("mockserve:prefil_tokens_per_model_second:rate1m", line, StringComparison.Ordinal);
    }

    /// <summary>One line per (panel, name) whose name is not in <paramref name="known"/>.</summary>
    private static List<string> UnknownNames(JsonObject dashboard, IReadOnlySet<string> known) =>
        [.. Panels(dashboard)
            .SelectMany(p => Targets(p).SelectMany(t => MetricName().Matches((string)t["expr"]!).Select(m => (Panel: p, Name: m.Value))))
            .Where(x => !known.Contains(x.Name))
            .Select(x => $"panel {x.Panel["id"]} '{x.Panel["title"]}': {x.Name} is neither exported nor recorded")
            .Distinct()];

    /// <summary>
    /// The server's names from a real scrape after one request, the driver's from its metrics class's source, the
    /// recording rules' from the rules file; a histogram's name stands for its _bucket, _sum and _count series.
    /// </summary>
    private static async Task<HashSet<string>> KnownNamesAsync()
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        await using (var server = await TestServer.StartAsync())
        {
            await server.GenerateAsync(new GenerateRequest { PromptTokens = 100, MaxTokens = 4, IgnoreEos = true });
            foreach (Match m in TypeLine().Matches(await server.ScrapeAsync()))
            {
                Add(known, m.Groups["name"].Value, m.Groups["type"].Value == "histogram");
            }
        }

        string client = File.ReadAllText(Path.Combine(Root, "loadtests", "MockServe.LoadTests", "Telemetry", "ClientMetrics.cs"));
        foreach (Match m in ClientDeclaration().Matches(client))
        {
            Add(known, m.Groups["name"].Value, m.Groups["kind"].Value == "Histogram");
        }

        string rules = File.ReadAllText(Path.Combine(Root, "grafana", "prometheus", "rules", "mockserve-recording.yml"));
        foreach (Match m in RecordLine().Matches(rules))
        {
            known.Add(m.Groups["name"].Value);
        }

        // Each source must have given names, or a broken parse would pass every panel that uses none of them.
        Assert.Contains("mockserve_limit_prefill_tokens_per_second", known);
        Assert.Contains("mockserve_client_time_to_first_token_seconds_bucket", known);
        Assert.Contains("mockserve:prefill_tokens_per_model_second:rate1m", known);
        return known;
    }

    private static void Add(HashSet<string> known, string name, bool histogram)
    {
        known.Add(name);
        if (histogram)
        {
            known.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
        }
    }

    private static JsonObject LoadDashboard() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "grafana", "dashboards", "mockserve.json")))!.AsObject();

    /// <summary>Every panel, rows included, and the panels inside collapsed rows.</summary>
    private static IEnumerable<JsonObject> Panels(JsonObject dashboard) =>
        dashboard["panels"]!.AsArray().Select(p => p!.AsObject())
            .SelectMany(p => new[] { p }.Concat(p["panels"]?.AsArray().Select(c => c!.AsObject()) ?? []));

    private static IEnumerable<JsonObject> Targets(JsonObject panel) =>
        panel["targets"]?.AsArray().Select(t => t!.AsObject()) ?? [];

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MockServe.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no MockServe.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("mockserve[_:][a-z0-9_:]*")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"^# TYPE (?<name>\S+) (?<type>\S+)", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"Create(?<kind>Counter|Gauge|Histogram|Summary)\(\s*""(?<name>mockserve_client_[a-z0-9_]+)""")]
    private static partial Regex ClientDeclaration();

    [GeneratedRegex(@"^\s*-\s*record:\s*(?<name>\S+)", RegexOptions.Multiline)]
    private static partial Regex RecordLine();
}
