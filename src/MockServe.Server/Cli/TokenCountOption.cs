using System.CommandLine;
using System.CommandLine.Parsing;

using MockServe.Server.Configuration;

namespace MockServe.Server.Cli;

/// <summary>Command options (not settings) that take a token count, plainly or with a k/M suffix: 50000, 50k, 1.5M.</summary>
public static class TokenCountOption
{
    public static Option<long> Create(string name, string description, long defaultValue, string helpName = "TOKENS") => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => Parse(result, name),
    };

    private static long Parse(ArgumentResult result, string name)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (SettingText.TryParseTokenCount(text, out long tokens))
        {
            return tokens;
        }

        result.AddError($"{name}: expected a whole number of tokens such as 50000 or 50k, got '{text}'");
        return 0;
    }
}
