using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MockServe.LoadTests.Dashboards;

/// <summary>
/// Grafana's variable interpolation for Prometheus queries, the part a dashboard of Prometheus panels needs:
/// <c>$name</c>, <c>${name}</c>, <c>${name:format}</c> and <c>[[name]]</c> for template variables, and the
/// built-ins <c>$__interval</c>, <c>$__rate_interval</c>, <c>$__range</c> (and their <c>_ms</c>/<c>_s</c> forms).
/// </summary>
public sealed partial class QueryTemplate
{
    private const string AllMarker = "$__all";
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);

    /// <param name="variables">The dashboard's variables, with the values saved in it.</param>
    /// <param name="overrides">Values given on the command line (<c>--var name=a,b</c>; <c>All</c> selects All), replacing the saved ones.</param>
    /// <param name="step">The query step: Grafana's <c>$__interval</c>.</param>
    /// <param name="range">To minus from: <c>$__range</c>.</param>
    /// <param name="scrapeInterval">Prometheus's scrape interval, which <c>$__rate_interval</c> is built from.</param>
    public QueryTemplate(IReadOnlyList<TemplateVariable> variables, IReadOnlyDictionary<string, IReadOnlyList<string>> overrides, TimeSpan step, TimeSpan range, TimeSpan scrapeInterval)
    {
        foreach (var variable in variables)
        {
            var chosen = overrides.TryGetValue(variable.Name, out var given) ? given : variable.Current;
            values[variable.Name] = Format(variable, chosen);
        }

        foreach (var (name, given) in overrides.Where(o => !values.ContainsKey(o.Key)))
        {
            values[name] = Format(new TemplateVariable(name, "custom", given.Count > 1, IncludeAll: true, AllValue: null, given), given);
        }

        values["__interval"] = Duration(step);
        values["__interval_ms"] = ((long)step.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        // Grafana: max($__interval + scrape interval, 4 * scrape interval), so a rate always spans at least four
        // scrapes (one missed scrape does not leave it with fewer than two points) and never less than one step.
        values["__rate_interval"] = Duration(TimeSpan.FromTicks(Math.Max((step + scrapeInterval).Ticks, 4 * scrapeInterval.Ticks)));
        values["__rate_interval_ms"] = ((long)Math.Max((step + scrapeInterval).TotalMilliseconds, 4 * scrapeInterval.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
        values["__range"] = Duration(range);
        values["__range_s"] = ((long)range.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        values["__range_ms"] = ((long)range.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The value substituted for a name, or null if the template does not know it.</summary>
    public string? ValueOf(string name) => values.GetValueOrDefault(name);

    /// <summary>The query with every known variable replaced; an unknown one is left as written, as Grafana does.</summary>
    public string Apply(string expr) => Reference().Replace(expr, match =>
    {
        string name = match.Groups["braced"].Success ? match.Groups["braced"].Value
            : match.Groups["bracket"].Success ? match.Groups["bracket"].Value
            : match.Groups["plain"].Value;
        return values.TryGetValue(name, out string? value) ? value : match.Value;
    });

    // All: the variable's custom All value, or a regex of anything (".*", as the dashboard's =~ matchers expect; Grafana
    // would list every option, which needs the variable's query run first). Several values: Grafana's Prometheus
    // formatting, each value regex-escaped (the backslash doubled, as it sits in a PromQL string) and joined with |.
    private static string Format(TemplateVariable variable, IReadOnlyList<string> chosen)
    {
        if (chosen.Count == 0 || chosen.Any(v => v == AllMarker || string.Equals(v, "All", StringComparison.OrdinalIgnoreCase)))
        {
            return variable.AllValue ?? ".*";
        }

        return chosen.Count == 1 ? chosen[0] : "(" + string.Join('|', chosen.Select(RegexEscape)) + ")";
    }

    private static string RegexEscape(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (char c in value)
        {
            if (@"\^$*+?.()|{}[]".Contains(c, StringComparison.Ordinal))
            {
                builder.Append(@"\\");
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>A Prometheus duration: whole seconds as <c>15s</c>, anything finer as <c>1500ms</c>.</summary>
    public static string Duration(TimeSpan span) =>
        span.Ticks % TimeSpan.TicksPerSecond == 0
            ? ((long)span.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s"
            : Math.Max(1, (long)Math.Round(span.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";

    [GeneratedRegex(@"\$\{(?<braced>\w+)(?::[^}]*)?\}|\[\[(?<bracket>\w+)\]\]|\$(?<plain>\w+)")]
    private static partial Regex Reference();
}
