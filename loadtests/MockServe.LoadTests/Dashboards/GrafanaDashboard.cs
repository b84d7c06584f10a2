using System.Text.Json;

namespace MockServe.LoadTests.Dashboards;

/// <summary>A panel's place on Grafana's grid: 24 columns, <c>h</c> in grid rows (30 px each in Grafana).</summary>
public sealed record GridPos(int X, int Y, int W, int H);

/// <summary>One query of a panel: Prometheus <c>expr</c> and the legend pattern (<c>{{label}}</c>).</summary>
public sealed record PanelTarget(string RefId, string Expr, string? LegendFormat);

/// <summary>
/// A panel as drawn: its grid position after collapsed rows are laid out, the row heading it sits under, its unit
/// (<c>fieldConfig.defaults.unit</c>) and its visible targets. Rows are panels too, of type <c>row</c>.
/// </summary>
public sealed record DashboardPanel(
    int Id,
    string Type,
    string Title,
    GridPos Grid,
    string? Unit,
    IReadOnlyList<PanelTarget> Targets,
    string? Row)
{
    /// <summary>How a stat or gauge panel reduces a series to one number (Grafana's <c>reduceOptions.calcs</c>).</summary>
    public string Reducer { get; init; } = "lastNotNull";

    public bool IsRow => Type == "row";

    /// <summary>Panels Grafana shows as one number per series rather than lines over time.</summary>
    public bool IsSingleValue => Type is "stat" or "gauge" or "bargauge";
}

/// <summary>
/// A template variable: its name, whether it takes several values or All, Grafana's custom All value, and the
/// values saved in the dashboard (<c>current.value</c>; <c>$__all</c> when All is selected).
/// </summary>
public sealed record TemplateVariable(string Name, string Type, bool Multi, bool IncludeAll, string? AllValue, IReadOnlyList<string> Current);

/// <summary>
/// The parts of a Grafana dashboard JSON (schemaVersion 39 and later) the renderer draws: panels with their grid
/// positions, queries, units and template variables. Read from the same file Grafana provisions, so the picture
/// cannot drift from what Grafana shows.
/// </summary>
public sealed record GrafanaDashboard(string Title, IReadOnlyList<DashboardPanel> Panels, IReadOnlyList<TemplateVariable> Variables)
{
    /// <summary>Reads a dashboard file; a file that is not a dashboard throws <see cref="DashboardFormatException"/> saying where.</summary>
    public static GrafanaDashboard Load(string path) => Parse(File.ReadAllText(path));

    public static GrafanaDashboard Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new DashboardFormatException($"not JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            // A dashboard exported "for sharing externally" or fetched from the API wraps it in {"dashboard": ...}.
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("dashboard", out var inner) && inner.ValueKind == JsonValueKind.Object)
            {
                root = inner;
            }

            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("panels", out var panels) || panels.ValueKind != JsonValueKind.Array)
            {
                throw new DashboardFormatException("no \"panels\" array: not a Grafana dashboard");
            }

            return new GrafanaDashboard(Text(root, "title") ?? "dashboard", Layout(panels), ReadVariables(root));
        }
    }

    // Grafana keeps a collapsed row's panels inside the row, at the y they would have when expanded; expanded rows'
    // panels follow at top level. Drawn expanded, a collapsed row pushes everything below it down by its panels' height.
    private static List<DashboardPanel> Layout(JsonElement panels)
    {
        var result = new List<DashboardPanel>();
        int shift = 0;
        string? row = null;
        foreach (var element in panels.EnumerateArray().OrderBy(p => Grid(p).Y).ThenBy(p => Grid(p).X))
        {
            var panel = Panel(element, shift, row);
            if (panel.IsRow)
            {
                row = panel.Title;
                result.Add(panel);
                if (element.TryGetProperty("panels", out var nested) && nested.ValueKind == JsonValueKind.Array && nested.GetArrayLength() > 0)
                {
                    var children = nested.EnumerateArray().ToList();
                    int top = children.Min(c => Grid(c).Y);
                    int bottom = children.Max(c => Grid(c).Y + Grid(c).H);
                    int moveBy = panel.Grid.Y + 1 - top;
                    result.AddRange(children.OrderBy(c => Grid(c).Y).ThenBy(c => Grid(c).X).Select(c => Panel(c, moveBy, row)));
                    shift += bottom - top;
                }
            }
            else
            {
                result.Add(panel);
            }
        }

        return result;
    }

    private static DashboardPanel Panel(JsonElement element, int shift, string? row)
    {
        var grid = Grid(element);
        string type = Text(element, "type") ?? "timeseries";
        var targets = new List<PanelTarget>();
        if (element.TryGetProperty("targets", out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var target in array.EnumerateArray())
            {
                bool hidden = target.TryGetProperty("hide", out var hide) && hide.ValueKind == JsonValueKind.True;
                if (!hidden && Text(target, "expr") is { Length: > 0 } expr)
                {
                    targets.Add(new PanelTarget(Text(target, "refId") ?? "A", expr, Text(target, "legendFormat")));
                }
            }
        }

        string? unit = element.TryGetProperty("fieldConfig", out var fieldConfig) && fieldConfig.ValueKind == JsonValueKind.Object
            && fieldConfig.TryGetProperty("defaults", out var defaults) && defaults.ValueKind == JsonValueKind.Object
            ? Text(defaults, "unit")
            : null;
        string reducer = element.TryGetProperty("options", out var options) && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("reduceOptions", out var reduce) && reduce.ValueKind == JsonValueKind.Object
            && reduce.TryGetProperty("calcs", out var calcs) && calcs.ValueKind == JsonValueKind.Array && calcs.GetArrayLength() > 0
            && calcs[0].GetString() is { } calc
            ? calc
            : "lastNotNull";
        int id = element.TryGetProperty("id", out var idElement) && idElement.TryGetInt32(out int value) ? value : 0;
        return new DashboardPanel(id, type, Text(element, "title") ?? "", grid with { Y = grid.Y + shift }, unit, targets, type == "row" ? null : row)
        {
            Reducer = reducer,
        };
    }

    private static GridPos Grid(JsonElement panel)
    {
        if (!panel.TryGetProperty("gridPos", out var grid) || grid.ValueKind != JsonValueKind.Object)
        {
            return new GridPos(0, 0, 24, 8);
        }

        int Read(string name, int fallback) => grid.TryGetProperty(name, out var v) && v.TryGetInt32(out int i) ? i : fallback;
        int x = Math.Clamp(Read("x", 0), 0, 23);
        return new GridPos(x, Math.Max(0, Read("y", 0)), Math.Clamp(Read("w", 24), 1, 24 - x), Math.Max(1, Read("h", 8)));
    }

    private static List<TemplateVariable> ReadVariables(JsonElement root)
    {
        var result = new List<TemplateVariable>();
        if (!root.TryGetProperty("templating", out var templating) || templating.ValueKind != JsonValueKind.Object
            || !templating.TryGetProperty("list", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        foreach (var variable in list.EnumerateArray())
        {
            if (Text(variable, "name") is not { Length: > 0 } name)
            {
                continue;
            }

            var current = new List<string>();
            if (variable.TryGetProperty("current", out var cur) && cur.ValueKind == JsonValueKind.Object && cur.TryGetProperty("value", out var value))
            {
                if (value.ValueKind == JsonValueKind.Array)
                {
                    current.AddRange(value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!));
                }
                else if (value.ValueKind == JsonValueKind.String)
                {
                    current.Add(value.GetString()!);
                }
            }

            // A constant or custom variable without a saved selection still has its query: the value(s) themselves.
            if (current.Count == 0 && Text(variable, "type") is "constant" or "custom" or "textbox" && Text(variable, "query") is { } query)
            {
                current.AddRange(query.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            }

            result.Add(new TemplateVariable(
                name,
                Text(variable, "type") ?? "query",
                Flag(variable, "multi"),
                Flag(variable, "includeAll"),
                Text(variable, "allValue") is { Length: > 0 } all ? all : null,
                current));
        }

        return result;
    }

    private static bool Flag(JsonElement element, string name) => element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>The dashboard file is not a Grafana dashboard the renderer can read.</summary>
public sealed class DashboardFormatException(string message) : Exception(message);
