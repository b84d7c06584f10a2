using System.Globalization;

namespace MockServe.LoadTests.Simulations;

/// <summary>Conversions between seconds as a double and whole ticks, rounded once, so schedules are exact in tests.</summary>
internal static class Ticks
{
    public static TimeSpan FromSeconds(double seconds) => TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));

    /// <summary>An offset strictly inside [0, end): rounding to ticks must not push a start onto the step's end.</summary>
    public static TimeSpan Inside(double seconds, TimeSpan end)
    {
        var t = FromSeconds(seconds);
        return t < end ? t : end - TimeSpan.FromTicks(1);
    }

    /// <summary>A short form for messages and descriptions: 250ms, 1.5s, 30s.</summary>
    public static string Describe(TimeSpan t) => t < TimeSpan.FromSeconds(1) && t > TimeSpan.Zero
        ? t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms"
        : t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    public static string Describe(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
