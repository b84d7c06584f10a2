using System.CommandLine;
using System.CommandLine.Parsing;

using MockServe.Core.Workload;

namespace MockServe.Server.Cli;

/// <summary>A length flag's value: a token count as before (<see cref="Tokens"/>), or a length spec (<see cref="Lengths"/>).</summary>
internal sealed record LengthValue(long Tokens, ILengthDistribution? Lengths);

/// <summary>
/// Command options that take a token count (50000, 50k, 1.5M) or a length spec (<c>lognormal:8000,0.8</c>,
/// <c>uniform:4k-32k</c>, <c>hist:FILE.csv</c>), the load driver's forms (<see cref="LengthSpec"/>).
/// </summary>
internal static class LengthOption
{
    public static Option<LengthValue> Create(string name, string description, long defaultValue, string helpName = "TOKENS|SPEC") => new(name)
    {
        Description = $"{description} A token count, or a length spec: {LengthSpec.AllowedForms}.",
        HelpName = helpName,
        DefaultValueFactory = _ => new LengthValue(defaultValue, null),
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (TryParse(name, text, out var value, out string? error))
            {
                return value;
            }

            result.AddError(error);
            return new LengthValue(defaultValue, null);
        },
    };

    /// <summary>
    /// A count, or else a spec; an error names the flag, the value and the allowed forms. A relative histogram path
    /// is taken from the working directory, where the user typed it.
    /// </summary>
    public static bool TryParse(
        string name,
        string text,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LengthValue? value,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        value = null;
        if (TokenCounts.TryParse(text, out long tokens))
        {
            value = new LengthValue(tokens, null);
            error = null;
            return true;
        }

        if (!text.Contains(':', StringComparison.Ordinal))
        {
            error = $"{name}: expected a whole number of tokens such as 50000 or 50k, or a length spec ({LengthSpec.AllowedForms}), got '{text}'";
            return false;
        }

        if (!LengthSpec.TryParse(name, text, null, out var distribution, out error))
        {
            return false;
        }

        value = new LengthValue(0, new AsWritten(text.Trim(), distribution));
        return true;
    }

    /// <summary>
    /// Reports a distribution by the spec as the user wrote it (lognormal:8000,0.8) rather than its normal form
    /// (lognormal:mu=8.98...,0.8,1-9223372036854775807), which is exact but hard to read in a header or a table.
    /// </summary>
    private sealed class AsWritten(string text, ILengthDistribution inner) : ILengthDistribution
    {
        public string Name => inner.Name;

        public string Spec => text;

        public long Min => inner.Min;

        public long Sample(Random random) => inner.Sample(random);
    }
}
