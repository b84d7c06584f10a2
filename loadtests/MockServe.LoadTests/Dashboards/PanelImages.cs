using System.Globalization;
using System.Text.RegularExpressions;

using ScottPlot;

namespace MockServe.LoadTests.Dashboards;

/// <summary>A series as a panel shows it: its legend text and points.</summary>
public sealed record PanelSeries(string Legend, IReadOnlyList<(DateTimeOffset At, double Value)> Points);

/// <summary>Draws one panel as a PNG (ScottPlot 5, the style of the load reports' charts) at its grid size.</summary>
internal static partial class PanelImages
{
    // Grafana's grid: 24 columns across, rows 30 px high with 8 px between them. 60 px a column makes a full-width
    // panel 1440 px, about a wide screen's dashboard.
    public const int ColumnPixels = 60;
    public const int RowPixels = 30;
    public const int GapPixels = 8;

    public static (int Width, int Height) Size(GridPos grid) =>
        (grid.W * ColumnPixels, (grid.H * (RowPixels + GapPixels)) - GapPixels);

    /// <summary>Grafana's legend: <c>{{label}}</c> replaced by the label's value (empty when missing); no format, the series' labels.</summary>
    public static string Legend(IReadOnlyDictionary<string, string> labels, string? legendFormat, string expr)
    {
        if (legendFormat is { Length: > 0 } format && format != "__auto")
        {
            return LegendLabel().Replace(format, m => labels.GetValueOrDefault(m.Groups[1].Value.Trim(), ""));
        }

        string name = labels.GetValueOrDefault("__name__", "");
        var rest = labels.Where(l => l.Key != "__name__").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"").ToList();
        return rest.Count == 0 ? (name.Length > 0 ? name : expr) : name + "{" + string.Join(", ", rest) + "}";
    }

    /// <summary>Lines over time, the y axis in the panel's unit, the x axis in UTC; a series absent for more than two steps has a gap there.</summary>
    public static byte[] TimeSeries(DashboardPanel panel, IReadOnlyList<PanelSeries> series, DateTimeOffset from, DateTimeOffset to, TimeSpan step)
    {
        var plot = new Plot();
        int drawn = 0;
        foreach (var s in series)
        {
            var segments = Segments(s.Points, step);
            if (segments.Count == 0)
            {
                continue;
            }

            // One colour a series across its gaps; the legend names it once.
            var color = plot.Add.Palette.GetColor(drawn++);
            for (int i = 0; i < segments.Count; i++)
            {
                var points = segments[i];
                var line = plot.Add.Scatter(points.Select(p => p.At.UtcDateTime.ToOADate()).ToArray(), points.Select(p => p.Value).ToArray(), color);
                line.LegendText = i == 0 ? s.Legend : "";
                line.MarkerSize = points.Count == 1 ? 4 : 0;
            }
        }

        // Times of day only: the date on every tick crowds a half-width panel, so it is said once, in the axis label.
        var axis = plot.Axes.DateTimeTicksBottom();
        axis.TickGenerator = new ScottPlot.TickGenerators.DateTimeAutomatic
        {
            LabelFormatter = t => t.ToString(to - from >= TimeSpan.FromDays(1) ? "MM-dd HH:mm" : "HH:mm:ss", CultureInfo.InvariantCulture),
        };
        plot.Axes.SetLimitsX(from.UtcDateTime.ToOADate(), to.UtcDateTime.ToOADate());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => GrafanaUnits.Format(v, panel.Unit),
        };
        plot.Title(panel.Title);
        plot.XLabel(from.UtcDateTime.Date == to.UtcDateTime.Date ? $"UTC, {from.UtcDateTime:yyyy-MM-dd}" : "UTC");
        if (series.Count > 0)
        {
            plot.ShowLegend(Alignment.UpperLeft);
        }

        return Png(plot, panel.Grid);
    }

    /// <summary>
    /// Runs of finite points no more than two steps apart. Prometheus leaves a step out where the series did not
    /// exist (a restarted server, a target down); Grafana draws a gap there, not a line across.
    /// </summary>
    public static List<List<(DateTimeOffset At, double Value)>> Segments(IReadOnlyList<(DateTimeOffset At, double Value)> points, TimeSpan step)
    {
        var segments = new List<List<(DateTimeOffset At, double Value)>>();
        (DateTimeOffset At, double Value)? previous = null;
        foreach (var point in points)
        {
            if (!double.IsFinite(point.Value))
            {
                previous = null;
                continue;
            }

            if (previous is null || point.At - previous.Value.At > 2 * step)
            {
                segments.Add([]);
            }

            segments[^1].Add(point);
            previous = point;
        }

        return segments;
    }

    /// <summary>A stat or gauge panel: each series reduced to one big number with its legend under it.</summary>
    public static byte[] SingleValues(DashboardPanel panel, IReadOnlyList<(string Legend, double Value)> values)
    {
        var plot = Blank(panel);
        int shown = Math.Min(values.Count, 6);
        var (width, height) = Size(panel.Grid);
        float size = Math.Clamp(Math.Min(height / 3f, width / (shown * 5f)), 14, 72);
        for (int i = 0; i < shown; i++)
        {
            double x = (i + 0.5) / shown;
            var number = plot.Add.Text(GrafanaUnits.Format(values[i].Value, panel.Unit), x, 0.5);
            number.LabelFontSize = size;
            number.LabelBold = true;
            number.LabelFontColor = Colors.SteelBlue;
            number.LabelAlignment = Alignment.MiddleCenter;
            // One number is the panel's: its title says what it is, as in Grafana.
            if (shown > 1)
            {
                var legend = plot.Add.Text(values[i].Legend, x, 0.12);
                legend.LabelFontSize = 12;
                legend.LabelAlignment = Alignment.MiddleCenter;
            }
        }

        return Png(plot, panel.Grid);
    }

    /// <summary>A panel with a note instead of data: "no data", a query error, a type not drawn.</summary>
    public static byte[] Note(DashboardPanel panel, string note)
    {
        var plot = Blank(panel);
        var text = plot.Add.Text(note, 0.5, 0.5);
        text.LabelFontSize = 16;
        text.LabelFontColor = Colors.Gray;
        text.LabelAlignment = Alignment.MiddleCenter;
        return Png(plot, panel.Grid);
    }

    private static Plot Blank(DashboardPanel panel)
    {
        var plot = new Plot();
        plot.Title(panel.Title);
        plot.HideGrid();
        plot.Axes.Left.IsVisible = false;
        plot.Axes.Bottom.IsVisible = false;
        plot.Axes.Right.IsVisible = false;
        plot.Axes.Top.FrameLineStyle.IsVisible = false;
        plot.Axes.Left.FrameLineStyle.IsVisible = false;
        plot.Axes.Bottom.FrameLineStyle.IsVisible = false;
        plot.Axes.Right.FrameLineStyle.IsVisible = false;
        plot.Axes.SetLimits(0, 1, 0, 1);
        return plot;
    }

    private static byte[] Png(Plot plot, GridPos grid)
    {
        var (width, height) = Size(grid);
        return plot.GetImageBytes(width, Math.Max(height, 60), ImageFormat.Png);
    }

    [GeneratedRegex(@"\{\{(.+?)\}\}")]
    private static partial Regex LegendLabel();
}
