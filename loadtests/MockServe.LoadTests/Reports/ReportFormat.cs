using System.Globalization;

namespace MockServe.LoadTests.Reports;

/// <summary>Number formats every report shares: invariant culture, milliseconds with microsecond resolution.</summary>
internal static class ReportFormat
{
    public static string Ms(TimeSpan value) => value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);

    public static string Ms(TimeSpan? value) => value is { } v ? Ms(v) : "-";

    public static string Rate(double perSecond) => perSecond.ToString("0.###", CultureInfo.InvariantCulture);

    public static string Percent(double fraction) => Measurement.ErrorRateThreshold.FormatPercent(fraction);

    public static string Count(long count) => count.ToString(CultureInfo.InvariantCulture);

    public static double? MsValue(TimeSpan? value) => value is { } v ? Math.Round(v.TotalMilliseconds, 3) : null;
}
