namespace MockServe.Server.Text;

/// <summary>Counts the tokens of one piece of a prompt, at most <see cref="PieceCounter.MaxPieceLength"/> characters.</summary>
internal delegate int CountPiece(ReadOnlySpan<char> piece);

/// <summary>
/// Counts a prompt piece by piece, so the work is linear in its length and stops once the count passes a limit.
/// BPE is superlinear in the length of a pre-token (a run without spaces): one 320K-character run of 'a' cost
/// 81 CPU-seconds counted whole. Pieces of bounded length bound the work per character.
/// </summary>
internal static class PieceCounter
{
    /// <summary>
    /// The longest piece handed to BPE. Measured with o200k (CPU time per character over 100K characters):
    /// ordinary text of random words costs about 0.4 µs a character at any bound; pathological runs (spaces, one
    /// repeated letter, random CJK) cost up to 0.5-1.3 µs at 256, 1.2-2.4 µs at 1024 and 12 µs at 4096. o200k's
    /// longest tokens are 128 characters (runs of spaces), so a piece holds at least two of them.
    /// </summary>
    public const int MaxPieceLength = 256;

    /// <summary>
    /// The tokens of <paramref name="text"/>, or a lower bound above <paramref name="limit"/> once the count passes it.
    /// </summary>
    /// <remarks>
    /// A piece ends, where it can, before whitespace or punctuation (other than an apostrophe) that follows a
    /// letter or digit. o200k's pre-tokenizer always ends a pre-token there (a letter run can only go on with
    /// letters, marks or a contraction such as 's; a digit run only with digits), and BPE never merges across
    /// pre-tokens, so such a cut changes no count: English, code, JSON and CJK with punctuation count exactly as
    /// they would whole. A piece with no such place (a run of one character, base64, CJK without punctuation) is cut
    /// at <see cref="MaxPieceLength"/>: BPE cannot merge across that cut, which usually adds a token, rarely more
    /// (40,000 random letters: 20,704 tokens against 20,672 whole, 0.15%).
    /// </remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled between two pieces.</exception>
    public static PromptCount Count(string text, long limit, CountPiece count, CancellationToken cancellationToken)
    {
        long tokens = 0;
        int start = 0;
        while (start < text.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int end = PieceEnd(text, start);
            tokens += count(text.AsSpan(start, end - start));
            if (tokens > limit && end < text.Length)
            {
                return new PromptCount(tokens, IsLowerBound: true);
            }

            start = end;
        }

        return new PromptCount(tokens, IsLowerBound: false);
    }

    /// <summary>The end of the piece that begins at <paramref name="start"/>: at most <see cref="MaxPieceLength"/> on.</summary>
    internal static int PieceEnd(string text, int start)
    {
        int hardEnd = start + MaxPieceLength;
        if (hardEnd >= text.Length)
        {
            return text.Length;
        }

        // The last exact cut in the window. Scanning back is linear overall: when it finds a cut near the start, the
        // window had none after it, so the next piece reaches past this window's end.
        for (int p = hardEnd; p > start; p--)
        {
            if (IsExactCut(text, p))
            {
                return p;
            }
        }

        // Keep a surrogate pair whole: half a character would be counted as a replacement character.
        return char.IsHighSurrogate(text[hardEnd - 1]) ? hardEnd - 1 : hardEnd;
    }

    // '|' is a symbol, not punctuation, so no cut splits the special token <|endoftext|>.
    private static bool IsExactCut(string text, int p) =>
        char.IsLetterOrDigit(text[p - 1]) && (char.IsWhiteSpace(text[p]) || (char.IsPunctuation(text[p]) && text[p] != '\''));
}
