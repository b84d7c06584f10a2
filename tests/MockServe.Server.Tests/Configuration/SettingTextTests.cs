using MockServe.Server.Configuration;

namespace MockServe.Server.Tests.Configuration;

public sealed class SettingTextTests
{
    [Theory]
    [InlineData("45", 45)]
    [InlineData("250ms", 0.25)]
    [InlineData("2m", 2 * 60)]
    [InlineData("1.5h", 1.5 * 3600)]
    public void TryParseDuration_Suffix_IsSeconds(string text, double expected)
    {
        Assert.True(SettingText.TryParseDuration(text, out double seconds));
        Assert.Equal(expected, seconds);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-1")]
    [InlineData("")]
    public void TryParseDuration_NotADuration_Fails(string text)
    {
        Assert.False(SettingText.TryParseDuration(text, out _));
    }

    [Theory]
    [InlineData(600, "10m")]
    [InlineData(30, "30s")]
    [InlineData(7200, "2h")]
    [InlineData(0.25, "250ms")]
    [InlineData(90, "90s")]
    public void FormatDuration_Seconds_UsesTheLargestWholeUnit(double seconds, string expected)
    {
        Assert.Equal(expected, SettingText.FormatDuration(seconds));
    }
}
