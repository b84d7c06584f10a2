using System.Globalization;

using MockServe.Core.Workload;

namespace MockServe.Server.Configuration;

/// <summary>
/// How durations and token counts are written, in a flag, an environment variable or appsettings.json alike:
/// 250ms, 5s, 2m, 1h, 1d or bare seconds; 50000, 50k or 1.5M tokens.
/// </summary>
public static class SettingText
{
    private static readonly (string Suffix, double Seconds)[] DurationUnits = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];

    public static bool TryParseDuration(string text, out double seconds)
    {
        ArgumentNullException.ThrowIfNull(text);
        string s = text.Trim().ToLowerInvariant();
        double scale = 1;
        foreach (var (suffix, unitSeconds) in DurationUnits)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal))
            {
                s = s[..^suffix.Length];
                scale = unitSeconds;
                break;
            }
        }

        bool ok = double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value);
        seconds = value * scale;
        return ok && double.IsFinite(seconds);
    }

    /// <summary>The largest unit that writes <paramref name="seconds"/> as a whole number: 600 is "10m", 30 is "30s".</summary>
    public static string FormatDuration(double seconds)
    {
        for (int i = DurationUnits.Length - 1; i >= 0; i--)
        {
            var (suffix, unitSeconds) = DurationUnits[i];
            double count = seconds / unitSeconds;
            if (count >= 1 && count == Math.Floor(count))
            {
                return $"{count.ToString(CultureInfo.InvariantCulture)}{suffix}";
            }
        }

        return $"{seconds.ToString(CultureInfo.InvariantCulture)}s";
    }

    /// <summary>Delegates to Core's <see cref="TokenCounts.TryParse"/>, so settings and length specs read counts alike.</summary>
    public static bool TryParseTokenCount(string text, out long tokens) => TokenCounts.TryParse(text, out tokens);
}
