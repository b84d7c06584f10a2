using MockServe.LoadTests.Dashboards;

namespace MockServe.LoadTests.Tests.Dashboards;

public class PanelDrawingTests
{
    private static readonly Dictionary<string, string> Labels = new() { ["__name__"] = "mockserve_kv_cache_bytes", ["tier"] = "hbm", ["instance"] = "a:9464" };

    [Theory]
    [InlineData("{{tier}} on {{instance}}", "hbm on a:9464")]
    [InlineData("{{ tier }}", "hbm")]
    [InlineData("used {{job}}", "used ")]
    [InlineData("capacity", "capacity")]
    public void Legend_Format_LabelsSubstitutedMissingOnesEmpty(string format, string expected)
    {
        Assert.Equal(expected, PanelImages.Legend(Labels, format, "expr"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("__auto")]
    public void Legend_NoFormat_NameAndSortedLabels(string? format)
    {
        Assert.Equal("mockserve_kv_cache_bytes{instance=\"a:9464\", tier=\"hbm\"}", PanelImages.Legend(Labels, format, "expr"));
    }

    [Fact]
    public void Legend_NoFormatNoLabels_TheQuery()
    {
        Assert.Equal("sum(x)", PanelImages.Legend(new Dictionary<string, string>(), null, "sum(x)"));
    }

    [Theory]
    [InlineData(1234, "short", "1.23 K")]
    [InlineData(2_500_000, null, "2.5 Mil")]
    [InlineData(0.25, "s", "250 ms")]
    [InlineData(90, "s", "1.5 min")]
    [InlineData(1500, "ms", "1.5 s")]
    [InlineData(12.5, "ms", "12.5 ms")]
    // 80 GiB = 80 * 1024^3 bytes.
    [InlineData(85_899_345_920, "bytes", "80 GiB")]
    [InlineData(32_000_000_000, "Bps", "32 GB/s")]
    [InlineData(42.5, "percent", "42.5%")]
    [InlineData(0.425, "percentunit", "42.5%")]
    [InlineData(3.5, "reqps", "3.5 req/s")]
    [InlineData(1500, "suffix: tok/s", "1.5 K tok/s")]
    [InlineData(0, "short", "0")]
    public void Format_GrafanaUnits(double value, string? unit, string expected)
    {
        Assert.Equal(expected, GrafanaUnits.Format(value, unit));
    }

    [Theory]
    [InlineData("lastNotNull", 2)]
    [InlineData("last", double.NaN)]
    [InlineData("max", 5)]
    // NaN is skipped: (5 + 2) / 2 = 3.5.
    [InlineData("mean", 3.5)]
    public void Reduce_StatCalcs(string reducer, double expected)
    {
        var t = DateTimeOffset.UnixEpoch;
        (DateTimeOffset, double)[] points = [(t, 5), (t.AddSeconds(1), 2), (t.AddSeconds(2), double.NaN)];

        Assert.Equal(expected, DashboardRenderer.Reduce(points, reducer));
    }

    [Theory]
    [InlineData("Requests running and waiting", "requests-running-and-waiting")]
    [InlineData("TTFT p99 (s)", "ttft-p99-s")]
    [InlineData("ÄÖ", "panel")]
    public void Slug_LettersDigitsAndDashes(string title, string expected)
    {
        Assert.Equal(expected, DashboardRenderer.Slug(title));
    }

    [Fact]
    public void Size_GridUnits_SixtyPixelColumnsAndThirtyEightPixelRows()
    {
        // w 12 -> 12 * 60 = 720 px; h 8 -> 8 rows of 30 px with 7 gaps of 8 px = 240 + 56 = 296 px.
        Assert.Equal((720, 296), PanelImages.Size(new GridPos(0, 0, 12, 8)));
    }

    [Fact]
    public void Segments_GapOfMoreThanTwoStepsOrNaN_SplitsTheLine()
    {
        var t = DateTimeOffset.UnixEpoch;
        // Step 5 s: 0, 5, 15 are at most 10 s apart (one run); 30 is 15 s after 15 (a gap); NaN at 35 ends that run; 40 starts another.
        (DateTimeOffset, double)[] points = [(t, 1), (t.AddSeconds(5), 2), (t.AddSeconds(15), 3), (t.AddSeconds(30), 4), (t.AddSeconds(35), double.NaN), (t.AddSeconds(40), 5)];

        var segments = PanelImages.Segments(points, TimeSpan.FromSeconds(5));

        Assert.Equal([[1.0, 2, 3], [4.0], [5.0]], segments.Select(s => s.Select(p => p.Value).ToArray()));
    }
}
