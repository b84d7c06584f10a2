using System.Globalization;

namespace MockServe.Server.Cli;

/// <summary>Human units for tables: binary bytes (KiB, MiB, GiB), seconds (µs, ms, s), decimal counts.</summary>
internal static class Units
{
    private static readonly string[] ByteUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    public static string Bytes(double bytes)
    {
        int unit = 0;
        double value = bytes;
        while (Math.Abs(value) >= 1024 && unit < ByteUnits.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return $"{Number(value)} {ByteUnits[unit]}";
    }

    public static string Seconds(double seconds) => Math.Abs(seconds) switch
    {
        0 => "0 s",
        < 1e-3 => $"{Number(seconds * 1e6)} µs",
        < 1 => $"{Number(seconds * 1e3)} ms",
        _ => $"{Number(seconds)} s",
    };

    /// <summary>A parameter count in billions or millions: "34.39B", "2.4B", "350M".</summary>
    public static string Parameters(double count) => count >= 1e9
        ? $"{Number(count / 1e9)}B"
        : $"{Number(count / 1e6)}M";

    public static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A fraction as a percentage: 0.55 is "55%", 0.123 is "12.3%".</summary>
    public static string Percent(double fraction) => (fraction * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    /// <summary>Three significant figures or more, never an exponent: 1.23, 12.3, 123, 1234.</summary>
    public static string Number(double value)
    {
        double magnitude = Math.Abs(value);
        string format = magnitude switch
        {
            < 10 => "0.##",
            < 100 => "0.#",
            _ => "0",
        };
        return value.ToString(format, CultureInfo.InvariantCulture);
    }
}
