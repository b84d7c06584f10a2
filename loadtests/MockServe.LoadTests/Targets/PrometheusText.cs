using System.Globalization;
using System.Text;

namespace MockServe.LoadTests.Targets;

/// <summary>One sample line of a Prometheus text exposition: <c>name{labels} value [timestamp]</c>.</summary>
/// <param name="Name">The metric name, suffix included (<c>_total</c>, <c>_bucket</c>...).</param>
/// <param name="Labels">Label names and their unescaped values; empty when the line has none.</param>
/// <param name="Value">The value; NaN and infinities as the text spells them (NaN, +Inf, -Inf).</param>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// Reads the sample lines of the Prometheus text format 0.0.4, only as much of it as the load driver charts:
/// comments (# HELP, # TYPE) and blank lines are skipped, a timestamp is ignored, and a line that does not parse is
/// skipped rather than losing the whole scrape. No NuGet package served here parses the format (prometheus-net
/// only writes it), and the grammar is a few lines.
/// </summary>
public static class PrometheusText
{
    public static IReadOnlyList<PrometheusSample> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var samples = new List<PrometheusSample>();
        foreach (var range in text.AsSpan().Split('\n'))
        {
            var line = text.AsSpan()[range].Trim();
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            if (TryParseLine(line, out var sample))
            {
                samples.Add(sample);
            }
        }

        return samples;
    }

    /// <summary>The sum of the samples named <paramref name="name"/> that carry every label given; null when none does.</summary>
    /// <remarks>Summing lets a series ignore labels it does not name (a counter split by a label it does not chart).</remarks>
    public static double? Sum(IReadOnlyList<PrometheusSample> samples, string name, params (string Name, string Value)[] labels)
    {
        ArgumentNullException.ThrowIfNull(samples);
        double? sum = null;
        foreach (var sample in samples)
        {
            if (sample.Name == name && labels.All(l => sample.Labels.TryGetValue(l.Name, out string? v) && v == l.Value))
            {
                sum = (sum ?? 0) + sample.Value;
            }
        }

        return sum;
    }

    private static bool TryParseLine(ReadOnlySpan<char> line, out PrometheusSample sample)
    {
        sample = null!;
        int nameEnd = line.IndexOfAny('{', ' ', '\t');
        if (nameEnd <= 0)
        {
            return false;
        }

        string name = line[..nameEnd].ToString();
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = line[nameEnd..];
        if (rest[0] == '{')
        {
            int consumed = ParseLabels(rest[1..], labels);
            if (consumed < 0)
            {
                return false;
            }

            rest = rest[(consumed + 1)..];
        }

        rest = rest.TrimStart();
        // The value, then an optional timestamp in milliseconds, which the scraper's own clock replaces.
        int valueEnd = rest.IndexOfAny(' ', '\t');
        var valueText = valueEnd < 0 ? rest : rest[..valueEnd];
        if (!TryParseValue(valueText, out double value))
        {
            return false;
        }

        sample = new PrometheusSample(name, labels, value);
        return true;
    }

    /// <summary>Reads <c>a="x",b="y"}</c>; returns the characters consumed, the closing brace included, or -1.</summary>
    private static int ParseLabels(ReadOnlySpan<char> text, Dictionary<string, string> labels)
    {
        int i = 0;
        while (true)
        {
            while (i < text.Length && text[i] is ' ' or ',')
            {
                i++;
            }

            if (i < text.Length && text[i] == '}')
            {
                return i + 1;
            }

            int eq = text[i..].IndexOf('=');
            if (eq <= 0 || i + eq + 1 >= text.Length || text[i + eq + 1] != '"')
            {
                return -1;
            }

            string labelName = text.Slice(i, eq).Trim().ToString();
            i += eq + 2;
            var value = new StringBuilder();
            // Label values escape backslash, double quote and line feed as \\, \" and \n.
            while (i < text.Length && text[i] != '"')
            {
                if (text[i] == '\\' && i + 1 < text.Length)
                {
                    i++;
                    value.Append(text[i] == 'n' ? '\n' : text[i]);
                }
                else
                {
                    value.Append(text[i]);
                }

                i++;
            }

            if (i >= text.Length)
            {
                return -1;
            }

            labels[labelName] = value.ToString();
            i++;
        }
    }

    private static bool TryParseValue(ReadOnlySpan<char> text, out double value)
    {
        // Go's ParseFloat spellings, which .NET does not read: +Inf, -Inf, Inf, NaN in any case.
        if (text.Equals("+Inf", StringComparison.OrdinalIgnoreCase) || text.Equals("Inf", StringComparison.OrdinalIgnoreCase))
        {
            value = double.PositiveInfinity;
            return true;
        }

        if (text.Equals("-Inf", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NegativeInfinity;
            return true;
        }

        if (text.Equals("NaN", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NaN;
            return true;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
