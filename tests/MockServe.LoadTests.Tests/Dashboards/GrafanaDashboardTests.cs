using System.Runtime.CompilerServices;

using MockServe.LoadTests.Dashboards;

namespace MockServe.LoadTests.Tests.Dashboards;

public class GrafanaDashboardTests
{
    // An expanded row (id 1) with two panels, a collapsed row (id 4) holding one panel saved at y 10, and a row
    // after it (id 6) at y 10 as Grafana saves it while row 4 is collapsed.
    internal const string Sample = """
        {
          "title": "Sample",
          "schemaVersion": 39,
          "templating": { "list": [
            { "name": "instance", "type": "query", "multi": true, "includeAll": true,
              "current": { "text": ["a", "b"], "value": ["127.0.0.1:9464", "127.0.0.1:9465"] } },
            { "name": "gpu", "type": "query", "multi": false, "includeAll": true, "allValue": "h100.*",
              "current": { "text": "All", "value": "$__all" } },
            { "name": "slo", "type": "constant", "query": "5" }
          ] },
          "panels": [
            { "id": 1, "type": "row", "title": "Concurrency", "collapsed": false, "gridPos": { "x": 0, "y": 0, "w": 24, "h": 1 }, "panels": [] },
            { "id": 2, "type": "timeseries", "title": "Running", "gridPos": { "x": 0, "y": 1, "w": 12, "h": 8 },
              "fieldConfig": { "defaults": { "unit": "short" } },
              "targets": [
                { "refId": "A", "expr": "mockserve_requests_running{instance=~\"$instance\"}", "legendFormat": "{{instance}}" },
                { "refId": "B", "expr": "hidden_one", "hide": true }
              ] },
            { "id": 3, "type": "stat", "title": "Users that fit", "gridPos": { "x": 12, "y": 1, "w": 12, "h": 8 },
              "options": { "reduceOptions": { "calcs": ["max"] } },
              "targets": [ { "refId": "A", "expr": "mockserve_max_concurrent_users" } ] },
            { "id": 4, "type": "row", "title": "Decoding", "collapsed": true, "gridPos": { "x": 0, "y": 9, "w": 24, "h": 1 },
              "panels": [
                { "id": 5, "type": "timeseries", "title": "Tokens/s", "gridPos": { "x": 0, "y": 10, "w": 24, "h": 6 },
                  "fieldConfig": { "defaults": { "unit": "reqps" } },
                  "targets": [ { "refId": "A", "expr": "rate(mockserve_generation_tokens_total[$__rate_interval])" } ] }
              ] },
            { "id": 6, "type": "row", "title": "Clients", "collapsed": false, "gridPos": { "x": 0, "y": 10, "w": 24, "h": 1 } },
            { "id": 7, "type": "gauge", "title": "In flight", "gridPos": { "x": 0, "y": 11, "w": 6, "h": 4 },
              "targets": [ { "refId": "A", "expr": "sum(mockserve_client_requests_in_flight)" } ] }
          ]
        }
        """;

    [Fact]
    public void Parse_RowsAndPanels_ReadsEachInOrderWithItsRow()
    {
        var dashboard = GrafanaDashboard.Parse(Sample);

        Assert.Equal("Sample", dashboard.Title);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], dashboard.Panels.Select(p => p.Id));
        Assert.Equal(["row", "timeseries", "stat", "row", "timeseries", "row", "gauge"], dashboard.Panels.Select(p => p.Type));
        Assert.Equal([null, "Concurrency", "Concurrency", null, "Decoding", null, "Clients"], dashboard.Panels.Select(p => p.Row));
        var running = dashboard.Panels[1];
        Assert.Equal(new GridPos(0, 1, 12, 8), running.Grid);
        Assert.Equal("short", running.Unit);
        // The hidden target B is not drawn, as in Grafana.
        var target = Assert.Single(running.Targets);
        Assert.Equal(new PanelTarget("A", "mockserve_requests_running{instance=~\"$instance\"}", "{{instance}}"), target);
        Assert.Equal("max", dashboard.Panels[2].Reducer);
        Assert.Equal("lastNotNull", dashboard.Panels[6].Reducer);
    }

    [Fact]
    public void Parse_CollapsedRow_DrawsItsPanelsExpandedAndPushesLaterPanelsDown()
    {
        var dashboard = GrafanaDashboard.Parse(Sample);

        // Row 4 at y 9; its panel saved at y 10, h 6, goes right under it: y 10. Everything after moves down by the
        // collapsed panels' height, 6: row 6 from y 10 to 16, gauge 7 from y 11 to 17.
        Assert.Equal(new GridPos(0, 9, 24, 1), dashboard.Panels[3].Grid);
        Assert.Equal(new GridPos(0, 10, 24, 6), dashboard.Panels[4].Grid);
        Assert.Equal(new GridPos(0, 16, 24, 1), dashboard.Panels[5].Grid);
        Assert.Equal(new GridPos(0, 17, 6, 4), dashboard.Panels[6].Grid);
    }

    [Fact]
    public void Parse_TemplateVariables_ReadsSavedValuesAllAndConstants()
    {
        var variables = GrafanaDashboard.Parse(Sample).Variables;

        Assert.Equal(["instance", "gpu", "slo"], variables.Select(v => v.Name));
        Assert.Equal(["127.0.0.1:9464", "127.0.0.1:9465"], variables[0].Current);
        Assert.True(variables[0].Multi);
        Assert.Equal(["$__all"], variables[1].Current);
        Assert.Equal("h100.*", variables[1].AllValue);
        Assert.Equal(["5"], variables[2].Current);
    }

    [Fact]
    public void Parse_WrappedInDashboardKey_ReadsTheInnerDashboard()
    {
        var dashboard = GrafanaDashboard.Parse("""{ "dashboard": { "title": "Inner", "panels": [] }, "overwrite": true }""");

        Assert.Equal("Inner", dashboard.Title);
        Assert.Empty(dashboard.Panels);
    }

    [Theory]
    [InlineData("{ \"title\": \"x\" }", "no \"panels\" array: not a Grafana dashboard")]
    [InlineData("[1, 2]", "no \"panels\" array: not a Grafana dashboard")]
    [InlineData("{ \"panels\": [ ", "not JSON: ")]
    public void Parse_NotADashboard_ThrowsSayingWhy(string json, string expected)
    {
        var e = Assert.Throws<DashboardFormatException>(() => GrafanaDashboard.Parse(json));

        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TestDashboardFile_HasUniqueIdsAndAQueryInEveryNonRowPanel()
    {
        var dashboard = GrafanaDashboard.Load(Path.Combine(Here(), "test-dashboard.json"));

        var panels = dashboard.Panels.Where(p => !p.IsRow).ToList();
        Assert.Equal(dashboard.Panels.Count, dashboard.Panels.Select(p => p.Id).Distinct().Count());
        Assert.Equal(7, panels.Count);
        Assert.All(panels, p => Assert.NotEmpty(p.Targets));
    }

    private static string Here([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
