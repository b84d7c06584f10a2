using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace MockServe.Server.Cli;

/// <summary>Options that take a token count, written plainly or with a k/M suffix: 50000, 50k, 1.5M.</summary>
public static class TokenCountOption
{
    public static Option<long> Create(string name, string description, long defaultValue, string helpName = "TOKENS") => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => Parse(result, name),
    };

    internal static bool TryParse(string text, out long tokens)
    {
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

    private static long Parse(ArgumentResult result, string name)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (TryParse(text, out long tokens))
        {
            return tokens;
        }

        result.AddError($"{name}: expected a whole number of tokens such as 50000 or 50k, got '{text}'");
        return 0;
    }
}
