using System.Globalization;

namespace MockServe.Core.Workload;

/// <summary>
/// How a token count is written in a flag, an environment variable, appsettings.json or a length spec alike:
/// 50000, 50k or 1.5M. Core holds the one parser so length specs (here) and settings (the server) agree.
/// </summary>
public static class TokenCounts
{
    /// <summary>Reads a whole number of tokens with an optional k (thousand) or M (million) suffix; any sign.</summary>
    public static bool TryParse(string text, out long tokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        tokens = 0;
        double multiplier = 1;
        string digits = text.Trim();
        if (digits.EndsWith('k') || digits.EndsWith('K'))
        {
            multiplier = 1e3;
            digits = digits[..^1];
        }
        else if (digits.EndsWith('m') || digits.EndsWith('M'))
        {
            multiplier = 1e6;
            digits = digits[..^1];
        }

        if (!double.TryParse(digits, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out double value))
        {
            return false;
        }

        double scaled = value * multiplier;
        if (scaled != Math.Floor(scaled) || scaled is < long.MinValue or > long.MaxValue)
        {
            return false;
        }

        tokens = (long)scaled;
        return true;
    }
}
