using MockServe.Server.Text;

namespace MockServe.Server.Tests.Text;

public class PieceCounterTests
{
    [Fact]
    public void Count_RunWithoutSpaces_PassesEachCharacterOnceInPiecesOfAtMostTheBound()
    {
        var inner = new RecordingCounter(charsPerToken: 8);

        var count = PieceCounter.Count(new string('a', 100_000), long.MaxValue, inner.Count, CancellationToken.None);

        // 100,000 = 390 x 256 + 160: no place to cut but the bound.
        Assert.Equal([.. Enumerable.Repeat(256, 390), 160], inner.Pieces);
        Assert.Equal(new PromptCount(100_000 / 8, IsLowerBound: false), count);
    }

    [Fact]
    public void Count_TextWithSpacesAndPunctuation_CutsOnlyAfterALetterOrDigitBeforeWhitespaceOrPunctuation()
    {
        string text = string.Concat(Enumerable.Repeat("It's 4 o'clock, said the <|endoftext|> model: \"ready\".\n", 300));
        var inner = new RecordingCounter(charsPerToken: 4);

        PieceCounter.Count(text, long.MaxValue, inner.Count, CancellationToken.None);

        Assert.Equal(text.Length, inner.Pieces.Sum());
        Assert.All(inner.Pieces, length => Assert.InRange(length, 1, PieceCounter.MaxPieceLength));
        int end = 0;
        foreach (int length in inner.Pieces.SkipLast(1))
        {
            end += length;
            Assert.True(char.IsLetterOrDigit(text[end - 1]), $"cut at {end} after '{text[end - 1]}'");
            Assert.True(char.IsWhiteSpace(text[end]) || (char.IsPunctuation(text[end]) && text[end] != '\''), $"cut at {end} before '{text[end]}'");
        }
    }

    [Fact]
    public void Count_PastTheLimit_StopsInThePieceThatPassesIt()
    {
        var inner = new RecordingCounter(charsPerToken: 4);

        var count = PieceCounter.Count(new string('a', 1_000_000), 1000, inner.Count, CancellationToken.None);

        // 64 tokens a 256-character piece: 15 pieces make 960, the 16th 1024. Of a million characters, 4,096 are
        // read: the limit's worth at 4 characters a token plus at most one piece.
        Assert.Equal(16 * 256, inner.Pieces.Sum());
        Assert.Equal(new PromptCount(1024, IsLowerBound: true), count);
    }

    [Fact]
    public void Count_PassesTheLimitInTheLastPiece_ExactCount()
    {
        var inner = new RecordingCounter(charsPerToken: 4);

        var count = PieceCounter.Count(new string('a', 512), 100, inner.Count, CancellationToken.None);

        Assert.Equal(new PromptCount(128, IsLowerBound: false), count);
    }

    [Fact]
    public void Count_CancelledWhileCounting_StopsBeforeTheNextPiece()
    {
        using var call = new CancellationTokenSource();
        int calls = 0;

        Assert.Throws<OperationCanceledException>(() => PieceCounter.Count(new string('a', 100_000), long.MaxValue, piece =>
        {
            if (++calls == 3)
            {
                call.Cancel();
            }

            return 1;
        }, call.Token));
        Assert.Equal(3, calls);
    }

    [Theory]
    [InlineData(" ", 200)]
    [InlineData("\n", 200)]
    [InlineData(",", 200)]
    [InlineData("\uFF0C", 200)] // the full-width comma of CJK text
    [InlineData("\"", 200)]
    // A letter run can go on with a contraction ('s, 't), and '|' may sit inside <|endoftext|>: no exact cut there.
    [InlineData("'", PieceCounter.MaxPieceLength)]
    [InlineData("|", PieceCounter.MaxPieceLength)]
    public void PieceEnd_RunWithOneSeparator_CutsBeforeItOnlyWhereTheCountStaysExact(string separator, int end)
    {
        string text = new string('a', 200) + separator + new string('b', 300);

        Assert.Equal(end, PieceCounter.PieceEnd(text, 0));
    }

    [Fact]
    public void PieceEnd_BoundFallsInsideASurrogatePair_KeepsThePairWhole()
    {
        // 'x' then pairs at 1-2, 3-4, ...: character 255, the last a 256-character piece would hold, is a high surrogate.
        string text = "x" + string.Concat(Enumerable.Repeat("\U0001F600", 200));

        Assert.Equal(255, PieceCounter.PieceEnd(text, 0));
    }

    /// <summary>Counts a token every <c>charsPerToken</c> characters (rounded up) and records each piece's length.</summary>
    private sealed class RecordingCounter(int charsPerToken)
    {
        public List<int> Pieces { get; } = [];

        public int Count(ReadOnlySpan<char> piece)
        {
            Pieces.Add(piece.Length);
            return (piece.Length + charsPerToken - 1) / charsPerToken;
        }
    }
}
