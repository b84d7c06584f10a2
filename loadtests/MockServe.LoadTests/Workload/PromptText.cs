using System.Text;

namespace MockServe.LoadTests.Workload;

/// <summary>
/// Seeded filler text of about a given number of tokens, for servers that take text. Without a
/// chars-per-token figure it writes 0.75 words a token, OpenAI's rule of thumb for English
/// ("What are tokens and how to count them?", OpenAI help centre).
/// </summary>
internal sealed class PromptText(double? charsPerToken)
{
    internal const double WordsPerToken = 0.75;

    private static readonly string[] Words =
    [
        "the", "model", "reads", "a", "long", "context", "and", "answers", "each", "question", "about", "its",
        "history", "while", "many", "users", "wait", "for", "their", "turn", "on", "one", "shared", "device",
        "memory", "cache", "blocks", "move", "between", "host", "then", "card", "when", "space", "runs", "short",
    ];

    public string Generate(long tokens, Random random)
    {
        if (tokens <= 0)
        {
            return "";
        }

        var text = new StringBuilder();
        if (charsPerToken is { } cpt)
        {
            long chars = Math.Max(1, (long)Math.Round(tokens * cpt));
            while (text.Length < chars)
            {
                text.Append(Words[random.Next(Words.Length)]).Append(' ');
            }

            text.Length = (int)chars;
        }
        else
        {
            long words = Math.Max(1, (long)Math.Round(tokens * WordsPerToken));
            for (long i = 0; i < words; i++)
            {
                text.Append(Words[random.Next(Words.Length)]).Append(' ');
            }
        }

        return text.ToString();
    }

    /// <summary>Drops about <paramref name="tokens"/> tokens from the start of <paramref name="text"/>.</summary>
    public string DropFront(string text, long tokens)
    {
        if (charsPerToken is { } cpt)
        {
            long chars = (long)Math.Round(tokens * cpt);
            return chars >= text.Length ? "" : text[(int)chars..];
        }

        long words = (long)Math.Round(tokens * WordsPerToken);
        int index = 0;
        for (long i = 0; i < words && index < text.Length; i++)
        {
            int space = text.IndexOf(' ', index);
            index = space < 0 ? text.Length : space + 1;
        }

        return text[index..];
    }
}
