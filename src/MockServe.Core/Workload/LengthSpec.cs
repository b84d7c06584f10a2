using System.Globalization;

namespace MockServe.Core.Workload;

/// <summary>
/// Parses length specs, as flags and scenario files write them: <c>fixed:50000</c>, <c>uniform:4000-32000</c>,
/// <c>normal:8000,2000</c>, <c>lognormal:2000,0.8</c> (median and sigma; <c>mu=7.6,0.8</c> gives mu instead),
/// <c>hist:lengths.csv</c>. Token counts may be written 50k or 1.5M. Normal and log-normal take an optional clamp
/// <c>,MIN-MAX</c> (default 1 to no upper bound). A histogram file has one <c>tokens,weight</c> line per bin;
/// blank lines, <c>#</c> comments and a <c>tokens,weight</c> header are skipped.
/// </summary>
public static class LengthSpec
{
    public const string AllowedForms =
        "fixed:N, uniform:MIN-MAX, normal:MEAN,SD[,MIN-MAX], lognormal:MEDIAN,SIGMA[,MIN-MAX] (or mu=MU,SIGMA), hist:FILE.csv";

    /// <summary>Parses <paramref name="spec"/> or throws a <see cref="FormatException"/> naming <paramref name="key"/>.</summary>
    public static ILengthDistribution Parse(string key, string spec, string? baseDirectory = null) =>
        TryParse(key, spec, baseDirectory, out var distribution, out string? error)
            ? distribution
            : throw new FormatException(error);

    /// <summary>
    /// Parses <paramref name="spec"/>; on failure <paramref name="error"/> names the key, the value and the allowed
    /// forms. A relative histogram path is taken from <paramref name="baseDirectory"/> (the scenario file's folder).
    /// </summary>
    public static bool TryParse(
        string key,
        string? spec,
        string? baseDirectory,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ILengthDistribution? distribution,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        distribution = null;
        string? problem = Parse(spec, baseDirectory, ref distribution);
        error = problem is null ? null : $"{key} is \"{spec}\": {problem}. Allowed forms: {AllowedForms}";
        return problem is null;
    }

    private static string? Parse(string? spec, string? baseDirectory, ref ILengthDistribution? distribution)
    {
        if (string.IsNullOrWhiteSpace(spec))
        {
            return "a length spec is required";
        }

        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return "the kind is missing (KIND:ARGUMENTS)";
        }

        string kind = spec[..colon].Trim().ToLowerInvariant();
        string args = spec[(colon + 1)..].Trim();
        string[] parts = args.Split(',', StringSplitOptions.TrimEntries);
        switch (kind)
        {
            case "fixed":
                if (!TryTokens(args, out long value))
                {
                    return $"fixed takes one whole number of tokens of at least 1, not \"{args}\"";
                }

                distribution = new FixedLength(value);
                return null;
            case "uniform":
                if (!TryRange(args, out long min, out long max))
                {
                    return $"uniform takes MIN-MAX, whole numbers with 1 <= MIN <= MAX, not \"{args}\"";
                }

                distribution = new UniformLength(min, max);
                return null;
            case "normal":
                return ParseNormal(parts, ref distribution);
            case "lognormal":
                return ParseLogNormal(parts, ref distribution);
            case "hist":
                return ParseHistogram(args, baseDirectory, ref distribution);
            default:
                return $"unknown kind \"{kind}\"";
        }
    }

    private static string? ParseNormal(string[] parts, ref ILengthDistribution? distribution)
    {
        if (parts.Length is < 2 or > 3
            || !TryTokens(parts[0], out long mean)
            || !TokenCounts.TryParse(parts[1], out long sd) || sd < 0)
        {
            return "normal takes MEAN,SD[,MIN-MAX]: a mean of at least 1 token and a standard deviation of at least 0";
        }

        long min = 1, max = long.MaxValue;
        if (parts.Length == 3 && !TryRange(parts[2], out min, out max))
        {
            return $"the clamp must be MIN-MAX with 1 <= MIN <= MAX, not \"{parts[2]}\"";
        }

        distribution = new NormalLength(mean, sd, min, max);
        return null;
    }

    private static string? ParseLogNormal(string[] parts, ref ILengthDistribution? distribution)
    {
        const string Usage = "lognormal takes MEDIAN,SIGMA[,MIN-MAX] with a median of at least 1 token (or mu=MU) and a sigma of at least 0";
        if (parts.Length is < 2 or > 3
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double sigma)
            || !double.IsFinite(sigma) || sigma < 0)
        {
            return Usage;
        }

        double mu;
        if (parts[0].StartsWith("mu=", StringComparison.OrdinalIgnoreCase))
        {
            if (!double.TryParse(parts[0][3..], NumberStyles.Float, CultureInfo.InvariantCulture, out mu) || !double.IsFinite(mu))
            {
                return Usage;
            }
        }
        else if (TryTokens(parts[0], out long median))
        {
            mu = Math.Log(median);
        }
        else
        {
            return Usage;
        }

        long min = 1, max = long.MaxValue;
        if (parts.Length == 3 && !TryRange(parts[2], out min, out max))
        {
            return $"the clamp must be MIN-MAX with 1 <= MIN <= MAX, not \"{parts[2]}\"";
        }

        distribution = new LogNormalLength(mu, sigma, min, max);
        return null;
    }

    private static string? ParseHistogram(string path, string? baseDirectory, ref ILengthDistribution? distribution)
    {
        if (path.Length == 0)
        {
            return "hist takes the path of a CSV file of tokens,weight lines";
        }

        string fullPath = baseDirectory is null ? path : Path.Combine(baseDirectory, path);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return $"cannot read {fullPath} ({e.Message})";
        }

        string? problem = ParseHistogramLines(lines, out var bins);
        if (problem is not null)
        {
            return $"{fullPath} {problem}";
        }

        distribution = new HistogramLength(path, bins);
        return null;
    }

    /// <summary>Reads tokens,weight lines; returns the first problem (naming its line) or null.</summary>
    internal static string? ParseHistogramLines(IReadOnlyList<string> lines, out List<(long Tokens, double Weight)> bins)
    {
        bins = [];
        for (int i = 0; i < lines.Count; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')
                || (bins.Count == 0 && line.Replace(" ", "", StringComparison.Ordinal).Equals("tokens,weight", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            string[] cells = line.Split(',', StringSplitOptions.TrimEntries);
            if (cells.Length != 2)
            {
                return $"line {i + 1}: \"{line}\" is not a tokens,weight pair";
            }

            if (!TryTokens(cells[0], out long tokens))
            {
                return $"line {i + 1}: tokens \"{cells[0]}\" must be a whole number of at least 1";
            }

            if (!double.TryParse(cells[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double weight)
                || !double.IsFinite(weight) || weight < 0)
            {
                return $"line {i + 1}: weight \"{cells[1]}\" must be a number of at least 0";
            }

            bins.Add((tokens, weight));
        }

        return bins.Sum(b => b.Weight) > 0 ? null : "has no bin of positive weight";
    }

    private static bool TryTokens(string text, out long tokens) =>
        TokenCounts.TryParse(text, out tokens) && tokens >= 1;

    private static bool TryRange(string text, out long min, out long max)
    {
        min = max = 0;
        string[] ends = text.Split('-', StringSplitOptions.TrimEntries);
        return ends.Length == 2 && TryTokens(ends[0], out min) && TryTokens(ends[1], out max) && min <= max;
    }
}
