using System.CommandLine;
using System.CommandLine.Parsing;

using MockServe.Server.Configuration;

namespace MockServe.Server.Cli;

/// <summary>Command options (not settings) that take a span of model time: 250ms, 5s, 2m, 1h, or bare seconds.</summary>
public static class DurationOption
{
    public static Option<double> Create(string name, string description, double defaultSeconds) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        DefaultValueFactory = _ => defaultSeconds,
        CustomParser = result => Parse(result, name),
    };

    private static double Parse(ArgumentResult result, string name)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (SettingText.TryParseDuration(text, out double seconds))
        {
            return seconds;
        }

        result.AddError($"{name}: expected a duration such as 250ms, 5s, 2m or 1h, got '{text}'");
        return 0;
    }
}
