using System.Text;

using MockServe.Contracts.V1;

namespace MockServe.Reliability.Fuzz;

/// <summary>
/// Well-formed Generate requests whose field values are random or extreme: negative and huge token counts, ids
/// around and far past the 256-character limit, long and odd Unicode text, many and long stop sequences, NaN and
/// infinite sampling values, session and request ids reused so calls collide.
/// </summary>
internal static class FieldFuzzer
{
    private static readonly long[] Counts = [long.MinValue, int.MinValue, -1, 0, 1, 2, 15, 16, 17, 255, 256, 4096, 50_000, 199_999, 200_000, 200_001, int.MaxValue, long.MaxValue];
    private static readonly int[] Ints = [int.MinValue, -1, 0, 1, 100, int.MaxValue];
    private static readonly float[] Floats = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MinValue, -1, 0, 0.5f, 1, 2, float.MaxValue, float.Epsilon];
    private static readonly int[] IdLengths = [0, 1, 36, 255, 256, 257, 1000, 65_536];

    // Words, CJK, emoji (surrogate pairs), combining marks, right-to-left, controls and NUL: all valid UTF-16 pairs,
    // so the request serialises; invalid UTF-8 is BodyFuzzer's.
    private static readonly string[] Pieces = ["hello", " ", "world", "的", "日本語", "😀", "👩‍👩‍👧", "e\u0301", "\u202Eevil", "\t", "\n", "\0", "\u0007", "\uFEFF", "ß", "ﬃ", "𝔘𝔫𝔦", "<|endoftext|>", "\\u0000", "%s%n"];

    /// <summary>A request and the x-mockserve-fail value to send with it, if any (never a kind the server knows).</summary>
    public static (GenerateRequest Request, string? FailHeader) Next(Random random)
    {
        var r = new GenerateRequest();
        switch (random.Next(10))
        {
            case 0:
                break; // no prompt at all
            case < 5:
                r.PromptTokens = random.Next(3) == 0 ? Pick(random, Counts) : random.Next(1, 60_000);
                break;
            default:
                r.Text = Text(random, random.Next(50) == 0 ? random.Next(100_000, 1_000_000) : random.Next(0, 2_000));
                break;
        }

        if (random.Next(4) != 0)
        {
            r.MaxTokens = random.Next(3) == 0 ? Pick(random, Counts) : random.Next(1, 64);
        }

        if (random.Next(3) == 0)
        {
            r.MinTokens = random.Next(2) == 0 ? Pick(random, Counts) : random.Next(0, 64);
        }

        r.IgnoreEos = random.Next(2) == 0;
        if (random.Next(4) == 0)
        {
            int count = random.Next(10) == 0 ? random.Next(17, 1000) : random.Next(0, 17);
            for (int i = 0; i < count; i++)
            {
                r.Stop.Add(Text(random, random.Next(10) == 0 ? random.Next(0, 2000) : random.Next(0, 8)));
            }
        }

        if (random.Next(2) == 0)
        {
            // A small pool makes calls collide: the same request id in flight, a session's turn still running.
            r.RequestId = random.Next(3) == 0 ? $"dup-{random.Next(5)}" : Id(random);
        }

        if (random.Next(2) == 0)
        {
            r.SessionId = random.Next(2) == 0 ? $"fuzz-session-{random.Next(20)}" : Id(random);
        }

        if (random.Next(3) == 0)
        {
            r.Priority = Pick(random, Ints);
            r.Temperature = Pick(random, Floats);
            r.TopP = Pick(random, Floats);
            r.TopK = Pick(random, Ints);
            r.PresencePenalty = Pick(random, Floats);
            r.FrequencyPenalty = Pick(random, Floats);
            r.RepetitionPenalty = Pick(random, Floats);
            r.Seed = Pick(random, Counts);
        }

        string? fail = random.Next(20) == 0 ? Pick(random, ["", "explode", "REFUSE", "refuse,abort", "stall;"]) : null;
        return (r, fail);
    }

    /// <summary>Random text of about <paramref name="length"/> characters from <see cref="Pieces"/>.</summary>
    public static string Text(Random random, int length)
    {
        var text = new StringBuilder(length + 16);
        while (text.Length < length)
        {
            text.Append(Pieces[random.Next(Pieces.Length)]);
        }

        return text.ToString();
    }

    private static string Id(Random random)
    {
        int length = IdLengths[random.Next(IdLengths.Length)];
        var id = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            id.Append((char)random.Next(0x21, 0x7F));
        }

        return id.ToString();
    }

    private static T Pick<T>(Random random, T[] values) => values[random.Next(values.Length)];
}
