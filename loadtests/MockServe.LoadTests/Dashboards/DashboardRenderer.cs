using System.Globalization;
using System.Net;
using System.Text;

namespace MockServe.LoadTests.Dashboards;

/// <summary>The time range and variable values a dashboard is drawn at.</summary>
public sealed record RenderSettings(DateTimeOffset From, DateTimeOffset To, TimeSpan Step, TimeSpan ScrapeInterval, IReadOnlyDictionary<string, IReadOnlyList<string>> Variables);

/// <summary>One drawn panel: its image, whether any query returned a point, and the queries Prometheus refused.</summary>
public sealed record PanelOutcome(DashboardPanel Panel, string FileName, byte[] Png, bool HasData, IReadOnlyList<string> Errors);

/// <summary>
/// Draws a Grafana dashboard without Grafana: every panel's queries evaluated with Prometheus's
/// <c>query_range</c>, each panel a PNG, laid out in <c>dashboard.html</c> on the dashboard's own 24-column grid.
/// </summary>
public static class DashboardRenderer
{
    /// <summary>Runs every visible target of every panel and draws the panels, in the dashboard's order.</summary>
    public static async Task<IReadOnlyList<PanelOutcome>> RenderAsync(GrafanaDashboard dashboard, PrometheusQueries prometheus, RenderSettings settings, CancellationToken ct)
    {
        var template = new QueryTemplate(dashboard.Variables, settings.Variables, settings.Step, settings.To - settings.From, settings.ScrapeInterval);
        var outcomes = new List<PanelOutcome>();
        foreach (var panel in dashboard.Panels.Where(p => !p.IsRow))
        {
            var series = new List<PanelSeries>();
            var errors = new List<string>();
            foreach (var target in panel.Targets)
            {
                string expr = template.Apply(target.Expr);
                try
                {
                    var result = await prometheus.QueryRangeAsync(expr, settings.From, settings.To, settings.Step, ct);
                    series.AddRange(result.Select(s => new PanelSeries(PanelImages.Legend(s.Labels, target.LegendFormat, expr), s.Points)));
                }
                catch (PrometheusQueryException e)
                {
                    errors.Add($"panel {panel.Id} \"{panel.Title}\", query {target.RefId} `{expr}`: {e.Message}");
                }
            }

            bool hasData = series.Any(s => s.Points.Any(p => !double.IsNaN(p.Value)));
            byte[] png = errors.Count > 0 && !hasData ? PanelImages.Note(panel, "query error (see the page's notes)")
                : panel.Targets.Count == 0 ? PanelImages.Note(panel, $"{panel.Type} panel: no Prometheus query to draw")
                : !hasData ? PanelImages.Note(panel, "no data")
                : panel.IsSingleValue ? PanelImages.SingleValues(panel, [.. series.Where(s => s.Points.Count > 0).Select(s => (s.Legend, Reduce(s.Points, panel.Reducer)))])
                : PanelImages.TimeSeries(panel, series, settings.From, settings.To, settings.Step);
            outcomes.Add(new PanelOutcome(panel, $"{panel.Id}-{Slug(panel.Title)}.png", png, hasData, errors));
        }

        return outcomes;
    }

    /// <summary>Grafana's reducers a stat panel names in <c>reduceOptions.calcs</c>; others read as lastNotNull.</summary>
    public static double Reduce(IReadOnlyList<(DateTimeOffset At, double Value)> points, string reducer)
    {
        var values = points.Select(p => p.Value).Where(v => !double.IsNaN(v)).ToList();
        if (values.Count == 0)
        {
            return double.NaN;
        }

        return reducer switch
        {
            "last" => points[^1].Value,
            "first" => points[0].Value,
            "firstNotNull" => values[0],
            "mean" => values.Average(),
            "max" => values.Max(),
            "min" => values.Min(),
            "sum" => values.Sum(),
            "count" => values.Count,
            _ => values[^1],
        };
    }

    /// <summary>A file name part from a title: lower case letters and digits, other runs as one dash.</summary>
    public static string Slug(string title)
    {
        var builder = new StringBuilder();
        foreach (char c in title.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                builder.Append(c);
            }
            else if (builder.Length > 0 && builder[^1] != '-')
            {
                builder.Append('-');
            }
        }

        string slug = builder.ToString().Trim('-');
        return slug.Length == 0 ? "panel" : slug.Length > 60 ? slug[..60].Trim('-') : slug;
    }

    /// <summary>
    /// <c>dashboard.html</c>: one file, no script, no external resource; a CSS grid of 24 columns with each panel's
    /// image at its <c>gridPos</c> and each row's title as a heading in its place.
    /// </summary>
    public static void WriteHtml(TextWriter writer, GrafanaDashboard dashboard, IReadOnlyList<PanelOutcome> outcomes, RenderSettings settings, Uri prometheus)
    {
        static string H(string text) => WebUtility.HtmlEncode(text);
        static string Place(GridPos g) => $"grid-column:{g.X + 1} / span {g.W};grid-row:{g.Y + 1} / span {g.H}";

        writer.WriteLine("<!DOCTYPE html>");
        writer.WriteLine($"<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{H(dashboard.Title)}</title>");
        writer.WriteLine("<style>body{font-family:sans-serif;margin:1em;color:#222}"
            + $".grid{{display:grid;grid-template-columns:repeat(24,minmax(0,1fr));grid-auto-rows:{PanelImages.RowPixels}px;gap:{PanelImages.GapPixels}px;max-width:{24 * PanelImages.ColumnPixels}px}}"
            + ".grid img{width:100%;height:100%;object-fit:contain;border:1px solid #ddd;box-sizing:border-box;background:#fff}"
            + ".grid h2{margin:0;align-self:end;font-size:1.1em;border-bottom:1px solid #888}.notes{color:#b00}</style></head><body>");
        writer.WriteLine($"<h1>{H(dashboard.Title)}</h1>");
        var template = new QueryTemplate(dashboard.Variables, settings.Variables, settings.Step, settings.To - settings.From, settings.ScrapeInterval);
        string variables = string.Join(", ", dashboard.Variables.Select(v => $"{v.Name}={template.ValueOf(v.Name)}"));
        writer.WriteLine($"<p>{H(Describe(settings, prometheus))}{(variables.Length > 0 ? H("; variables " + variables) : "")}</p>");
        var empty = outcomes.Where(o => !o.HasData && o.Panel.Targets.Count > 0).ToList();
        writer.WriteLine(empty.Count == 0
            ? "<p>Every panel with a query has data.</p>"
            : $"<p class=\"notes\">No data: {H(string.Join(", ", empty.Select(Name)))}</p>");
        foreach (string error in outcomes.SelectMany(o => o.Errors))
        {
            writer.WriteLine($"<p class=\"notes\">{H(error)}</p>");
        }

        writer.WriteLine("<div class=\"grid\">");
        foreach (var row in dashboard.Panels.Where(p => p.IsRow))
        {
            writer.WriteLine($"<h2 style=\"{Place(row.Grid with { X = 0, W = 24, H = 1 })}\">{H(row.Title)}</h2>");
        }

        foreach (var outcome in outcomes)
        {
            var panel = outcome.Panel;
            writer.WriteLine($"<img id=\"panel-{panel.Id}\" alt=\"{H(panel.Title)}\" title=\"{H(panel.Title)}\" style=\"{Place(panel.Grid)}\" "
                + $"src=\"data:image/png;base64,{Convert.ToBase64String(outcome.Png)}\">");
        }

        writer.WriteLine("</div></body></html>");
    }

    /// <summary>A panel as a summary line names it: id and title.</summary>
    public static string Name(PanelOutcome outcome) => $"{outcome.Panel.Id} \"{outcome.Panel.Title}\"";

    public static string Describe(RenderSettings settings, Uri prometheus) =>
        string.Create(CultureInfo.InvariantCulture, $"{prometheus} from {settings.From.UtcDateTime:yyyy-MM-dd HH:mm:ss} to {settings.To.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, step {QueryTemplate.Duration(settings.Step)}");
}
