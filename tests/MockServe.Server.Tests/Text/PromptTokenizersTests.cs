using Microsoft.ML.Tokenizers;

using MockServe.Server.Text;

namespace MockServe.Server.Tests.Text;

public class PromptTokenizersTests
{
    private static readonly Tokenizer Whole = TiktokenTokenizer.CreateForEncoding("o200k_base");

    public static TheoryData<string, string> OrdinaryTexts => new()
    {
        {
            "english", string.Concat(Enumerable.Range(0, 200).Select(i =>
                $"Paragraph {i}: the server's queue held {i * 37} requests; it didn't stall. \"Why?\" asked the user (again).\n\n"))
        },
        {
            "code", string.Concat(Enumerable.Range(0, 200).Select(i =>
                $"    public static int Method{i}(ReadOnlySpan<char> text) => text.IndexOf('x') + {i}; // returns -1 + {i}\n"))
        },
        {
            "json", "[" + string.Join(",", Enumerable.Range(0, 300).Select(i =>
                $"{{\"id\":{i},\"name\":\"user{i}\",\"tags\":[\"a\",\"b\"],\"score\":{i * 0.5}}}")) + "]"
        },
        {
            "chinese", string.Concat(Enumerable.Repeat("模型服务器收到了一个很长的请求，它先计算令牌数量。然后它开始预填充，最后逐个生成令牌！", 100))
        },
        {
            "special tokens", string.Concat(Enumerable.Repeat("first turn<|endoftext|>second turn <|endofprompt|> and more text, ", 200))
        },
    };

    [Theory]
    [MemberData(nameof(OrdinaryTexts))]
    public void Count_OrdinaryText_EqualsTheUnsplitCount(string kind, string text)
    {
        Assert.True(text.Length > 4 * PieceCounter.MaxPieceLength, $"{kind} must span several pieces");

        var count = PromptTokenizers.Create("o200k").Count(text, long.MaxValue, CancellationToken.None);

        Assert.Equal(new PromptCount(Whole.CountTokens(text), IsLowerBound: false), count);
    }

    [Fact]
    public void Count_LettersWithoutSpaces_DiffersFromTheUnsplitCountByAtMostATokenAHardCut()
    {
        var random = new Random(7);
        string text = string.Concat(Enumerable.Range(0, 20_000).Select(_ => (char)('a' + random.Next(26))));
        // 20,000 = 78 x 256 + 32: 78 hard cuts.
        const int HardCuts = 78;

        var count = PromptTokenizers.Create("o200k").Count(text, long.MaxValue, CancellationToken.None);

        Assert.InRange(count.Tokens - Whole.CountTokens(text), -HardCuts, HardCuts);
    }

    [Fact]
    public void Count_MillionCharacterRunPastTheLimit_StopsAfterTheLimitsWorth()
    {
        // o200k counts a run of 'a' as 8-character tokens: 32 a 256-character piece. 31 pieces make 992 tokens, the
        // 32nd passes 1,000 at 1,024; the other 991,808 characters are never counted.
        var count = PromptTokenizers.Create("o200k").Count(new string('a', 1_000_000), 1000, CancellationToken.None);

        Assert.Equal(new PromptCount(1024, IsLowerBound: true), count);
    }

    [Fact]
    public void Count_Approx_FourCharactersAToken()
    {
        var count = PromptTokenizers.Create("approx").Count(new string('a', 1001), 10, CancellationToken.None);

        Assert.Equal(new PromptCount(251, IsLowerBound: false), count);
    }

    [Theory]
    [MemberData(nameof(OrdinaryTexts))]
    public void Encode_OrdinaryText_TheUnsplitIdsAndAsManyAsCounted(string kind, string text)
    {
        var tokenizer = PromptTokenizers.Create("o200k");

        int[] ids = tokenizer.Encode(text, long.MaxValue, CancellationToken.None);

        Assert.Equal(Whole.EncodeToIds(text), ids);
        Assert.Equal(tokenizer.Count(text, long.MaxValue, CancellationToken.None).Tokens, ids.Length);
        Assert.NotEmpty(kind);
    }

    [Fact]
    public void Encode_PastTheLimit_StopsWithinAPieceOfIt()
    {
        string text = string.Concat(Enumerable.Repeat("one two three four ", 10_000));

        int[] ids = PromptTokenizers.Create("o200k").Encode(text, 1000, CancellationToken.None);

        // Each word is a token: encoding stops after the piece that passed 1,000, at most 256 characters on.
        Assert.InRange(ids.Length, 1001, 1000 + PieceCounter.MaxPieceLength);
    }

    [Fact]
    public void Encode_Approx_OneIdPerFourCharactersEqualForEqualChunks()
    {
        var approx = PromptTokenizers.Create("approx");

        int[] ids = approx.Encode("abcdabcdabcdab", long.MaxValue, CancellationToken.None);

        Assert.Equal(4, ids.Length);
        Assert.Equal(ids[0], ids[1]);
        Assert.Equal(ids[1], ids[2]);
        Assert.NotEqual(ids[2], ids[3]);
        Assert.Equal(ids, approx.Encode("abcdabcdabcdab", long.MaxValue, CancellationToken.None));
    }
}
