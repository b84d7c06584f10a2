using System.Globalization;

namespace MockServe.LoadTests.Dashboards;

/// <summary>
/// Grafana's value formats (<c>fieldConfig.defaults.unit</c>) for the units a capacity dashboard uses, so an axis
/// reads as Grafana's would: <c>short</c>, <c>s</c>, <c>ms</c>, <c>bytes</c> (IEC), <c>decbytes</c>, <c>Bps</c>
/// (SI), <c>binBps</c>, <c>percent</c>, <c>percentunit</c>, <c>reqps</c>, <c>ops</c>, <c>suffix:</c>/<c>prefix:</c>.
/// </summary>
public static class GrafanaUnits
{
    private static readonly string[] Short = ["", " K", " Mil", " Bil", " Tri"];
    private static readonly string[] Iec = [" B", " KiB", " MiB", " GiB", " TiB", " PiB"];
    private static readonly string[] Si = [" B", " kB", " MB", " GB", " TB", " PB"];

    public static string Format(double value, string? unit)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "+Inf" : "-Inf";
        }

        return unit switch
        {
            null or "" or "short" or "none" => Scaled(value, 1000, Short, ""),
            "percent" => Number(value) + "%",
            "percentunit" => Number(value * 100) + "%",
            "s" => Seconds(value),
            "ms" => Math.Abs(value) < 1000 ? Number(value) + " ms" : Seconds(value / 1000),
            "bytes" => Scaled(value, 1024, Iec, ""),
            "decbytes" => Scaled(value, 1000, Si, ""),
            "Bps" => Scaled(value, 1000, Si, "/s"),
            "binBps" => Scaled(value, 1024, Iec, "/s"),
            "reqps" => Scaled(value, 1000, Short, "") + " req/s",
            "ops" => Scaled(value, 1000, Short, "") + " ops/s",
            _ when unit.StartsWith("suffix:", StringComparison.Ordinal) => Scaled(value, 1000, Short, "") + unit["suffix:".Length..],
            _ when unit.StartsWith("prefix:", StringComparison.Ordinal) => unit["prefix:".Length..] + Scaled(value, 1000, Short, ""),
            _ => Scaled(value, 1000, Short, "") + " " + unit,
        };
    }

    // Grafana's "s": below a second in ms (µs below that), then s, min, hour, day.
    private static string Seconds(double value)
    {
        double size = Math.Abs(value);
        return size == 0 ? "0 s"
            : size < 0.001 ? Number(value * 1e6) + " µs"
            : size < 1 ? Number(value * 1000) + " ms"
            : size < 60 ? Number(value) + " s"
            : size < 3600 ? Number(value / 60) + " min"
            : size < 86400 ? Number(value / 3600) + " hour"
            : Number(value / 86400) + " day";
    }

    private static string Scaled(double value, double factor, string[] names, string suffix)
    {
        int power = 0;
        double scaled = value;
        while (Math.Abs(scaled) >= factor && power < names.Length - 1)
        {
            scaled /= factor;
            power++;
        }

        return Number(scaled) + names[power] + suffix;
    }

    // About three significant figures, trailing zeros dropped: 0.123, 1.23, 12.3, 123.
    private static string Number(double value)
    {
        double size = Math.Abs(value);
        string format = size >= 100 ? "0" : size >= 10 ? "0.#" : size >= 1 ? "0.##" : "0.###";
        string text = value.ToString(format, CultureInfo.InvariantCulture);
        return text == "-0" ? "0" : text;
    }
}
