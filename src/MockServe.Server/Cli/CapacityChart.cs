using MockServe.Core.Capacity;

using ScottPlot;

namespace MockServe.Server.Cli;

/// <summary>
/// <c>capacity --chart</c>: the first SLO's metric (worst over seeds) at every load evaluated, one line per deployment,
/// the SLO as a dashed line, and the load found ringed. ScottPlot 5, PNG or SVG by the file's extension.
/// </summary>
internal static class CapacityChart
{
    private const int Width = 1000;
    private const int Height = 560;

    /// <summary>Too many deployments make the legend taller than the plot; past this the lines go unnamed.</summary>
    private const int MaxLegendItems = 16;

    /// <summary>Writes the chart, or returns why it cannot (an extension it does not draw).</summary>
    public static string? Save(string path, SloThreshold slo, CapacityMode mode, IReadOnlyList<CapacityOutcome> outcomes)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".png" or ".svg"))
        {
            return $"--chart: '{path}' must end in .png or .svg";
        }

        var plot = Draw(slo, mode, outcomes);
        if (extension == ".svg")
        {
            plot.SaveSvg(path, Width, Height);
        }
        else
        {
            plot.SavePng(path, Width, Height);
        }

        return null;
    }

    internal static Plot Draw(SloThreshold slo, CapacityMode mode, IReadOnlyList<CapacityOutcome> outcomes)
    {
        // Milliseconds for sub-second limits (an ITL SLO), seconds otherwise, so the axis reads like the --slo.
        double scale = slo.LimitSeconds < 1 ? 1000 : 1;
        string unit = scale == 1000 ? "ms" : "s";
        var plot = new Plot();
        var searched = outcomes.Where(o => o.Result is not null).ToList();
        var varies = Varies.Of(searched);
        foreach (var outcome in searched)
        {
            var points = outcome.Result!.Points.OrderBy(p => p.Load).ToArray();
            var line = plot.Add.Scatter(points.Select(p => p.Load).ToArray(), points.Select(p => p.Worst(slo) * scale).ToArray());
            line.LegendText = searched.Count <= MaxLegendItems ? Label(outcome, varies) : "";
            line.MarkerSize = 5;

            // A point can fail another SLO than the one drawn, below its line: crossed, so it does not read as a pass.
            var failed = points.Where(p => !p.Passed).ToArray();
            if (failed.Length > 0)
            {
                var crosses = plot.Add.ScatterPoints(failed.Select(p => p.Load).ToArray(), failed.Select(p => p.Worst(slo) * scale).ToArray());
                crosses.Color = line.Color;
                crosses.MarkerShape = MarkerShape.Eks;
                crosses.MarkerSize = 10;
            }

            if (outcome.Result.Answer > 0)
            {
                var found = plot.Add.Marker(outcome.Result.At.Load, outcome.Result.At.Worst(slo) * scale);
                found.MarkerStyle.Shape = MarkerShape.OpenCircle;
                found.MarkerStyle.Size = 16;
                found.MarkerStyle.LineColor = line.Color;
                found.MarkerStyle.LineWidth = 2;
            }
        }

        var limit = plot.Add.HorizontalLine(slo.LimitSeconds * scale);
        limit.LinePattern = LinePattern.Dashed;
        limit.Color = Colors.Red;
        limit.LegendText = $"SLO {slo}";

        // Overloaded points reach many times the limit; the region around the limit is what a reader compares.
        double top = searched.Count == 0 ? 2 * slo.LimitSeconds * scale : Math.Min(
            3 * slo.LimitSeconds * scale,
            Math.Max(1.2 * slo.LimitSeconds * scale, searched.SelectMany(o => o.Result!.Points).Max(p => p.Worst(slo)) * scale * 1.05));
        plot.Axes.SetLimitsY(0, top);
        plot.Title($"{slo.Key} against {(mode == CapacityMode.Users ? "concurrent users" : "arrival rate")} (ringed: the load found; crossed: failed an SLO)");
        plot.XLabel(mode == CapacityMode.Users ? "concurrent users" : "conversations per second");
        plot.YLabel($"{slo.Key} ({unit})");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    /// <summary>A legend label; weight bits and efficiency appear where they vary between the lines, to tell them apart.</summary>
    internal static string Label(CapacityOutcome outcome, Varies varies)
    {
        var c = outcome.Case;
        string bits = c.Deployment.Compression.Bits is { } b ? $", KV {b:0.#} bit" : "";
        string weights = varies.WeightBits ? $", W {CapacityReport.WeightBits(outcome):0.#} bit" : "";
        string efficiency = varies.Efficiency ? $", {c.EfficiencyName}" : "";
        string replicas = outcome.Replicas > 1 ? $" x{outcome.Replicas}" : "";
        return $"{c.Model} on {c.TensorParallel}x {c.Gpu}{replicas}{bits}{weights}{efficiency}, {CapacityReport.Context(c)} ctx";
    }

    /// <summary>Which of the grid's newer dimensions differ between the charted deployments.</summary>
    internal readonly record struct Varies(bool WeightBits, bool Efficiency)
    {
        public static Varies Of(IReadOnlyList<CapacityOutcome> outcomes) => new(
            outcomes.Select(CapacityReport.WeightBits).Distinct().Count() > 1,
            outcomes.Select(o => o.Case.EfficiencyName).Distinct(StringComparer.OrdinalIgnoreCase).Count() > 1);
    }
}
