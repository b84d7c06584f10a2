using MockServe.Core.Workload;

namespace MockServe.Core.Tests.Workload;

/// <summary>The one token-count parser; SettingText.TryParseTokenCount delegates here, so its cases moved here too.</summary>
public class TokenCountsTests
{
    [Theory]
    [InlineData("50000", 50_000)]
    [InlineData("50k", 50_000)] // 50 * 1,000
    [InlineData("1.5M", 1_500_000)] // 1.5 * 1,000,000
    [InlineData(" 8K ", 8_000)]
    public void TryParse_CountOrSuffix_ReadsTokens(string text, long expected)
    {
        Assert.True(TokenCounts.TryParse(text, out long tokens));
        Assert.Equal(expected, tokens);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("ten")]
    [InlineData("lognormal:8000,0.8")]
    [InlineData("")]
    public void TryParse_NotAWholeCount_Fails(string text)
    {
        Assert.False(TokenCounts.TryParse(text, out _));
    }
}
