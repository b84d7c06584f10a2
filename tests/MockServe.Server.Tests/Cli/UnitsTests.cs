using MockServe.Server.Cli;

namespace MockServe.Server.Tests.Cli;

public sealed class UnitsTests
{
    [Theory]
    [InlineData(512, "512 B")]
    [InlineData(245_760, "240 KiB")]
    [InlineData(31_104, "30.4 KiB")]
    [InlineData(1.5 * 1024 * 1024 * 1024, "1.5 GiB")]
    public void Bytes_Value_UsesBinaryUnits(double bytes, string expected)
    {
        Assert.Equal(expected, Units.Bytes(bytes));
    }

    [Theory]
    [InlineData(0, "0 s")]
    [InlineData(0.000_012_5, "12.5 µs")]
    [InlineData(0.039_8, "39.8 ms")]
    [InlineData(17.93, "17.9 s")]
    public void Seconds_Value_PicksTheUnit(double seconds, string expected)
    {
        Assert.Equal(expected, Units.Seconds(seconds));
    }

    [Theory]
    [InlineData("50000", 50_000)]
    [InlineData("50k", 50_000)]
    [InlineData("1.5M", 1_500_000)]
    public void TryParse_TokenCount_ReadsSuffixes(string text, long expected)
    {
        Assert.True(TokenCountOption.TryParse(text, out long tokens));
        Assert.Equal(expected, tokens);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("ten")]
    [InlineData("")]
    public void TryParse_NotAWholeCount_Fails(string text)
    {
        Assert.False(TokenCountOption.TryParse(text, out _));
    }
}
