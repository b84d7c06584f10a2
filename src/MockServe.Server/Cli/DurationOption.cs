using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace MockServe.Server.Cli;

/// <summary>Options that take a span of model time: 250ms, 5s, 2m, 1h, or bare seconds.</summary>
public static class DurationOption
{
    public static Option<double> Create(string name, string description, double defaultSeconds) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        DefaultValueFactory = _ => defaultSeconds,
        CustomParser = result => Parse(result, name),
    };

    internal static bool TryParse(string text, out double seconds)
    {
        string s = text.Trim().ToLowerInvariant();
        (string Suffix, double Scale)[] units = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];
        double scale = 1;
        foreach (var (suffix, unitScale) in units)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal))
            {
                s = s[..^suffix.Length];
                scale = unitScale;
                break;
            }
        }

        bool ok = double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value);
        seconds = value * scale;
        return ok && double.IsFinite(seconds);
    }

    private static double Parse(ArgumentResult result, string name)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (TryParse(text, out double seconds))
        {
            return seconds;
        }

        result.AddError($"{name}: expected a duration such as 250ms, 5s, 2m or 1h, got '{text}'");
        return 0;
    }
}
