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
}
