using System.Text.RegularExpressions;

using MockServe.LoadTests.Reports;

namespace MockServe.LoadTests.Tests.Reports;

public sealed partial class HtmlReportTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [GeneratedRegex("<img alt=\"([^\"]+)\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\">")]
    private static partial Regex EmbeddedImage();

    [Fact]
    public void Write_Report_EmbedsSixChartsAsPng()
    {
        var writer = new StringWriter();

        HtmlReport.Write(writer, ReportFixture.Build());

        var images = EmbeddedImage().Matches(writer.ToString());
        Assert.Equal(
            ["TTFT over time", "ITL over time", "Throughput over time", "Requests in flight over time", "TTFT distribution", "TTFT by cache state"],
            images.Select(m => m.Groups[1].Value));
        Assert.All(images, m => Assert.Equal(PngSignature, Convert.FromBase64String(m.Groups[2].Value).Take(8)));
    }

    [Theory]
    [InlineData(1, "<p>Times are wall time.</p>")]
    [InlineData(0.02, "<p>Times and rates are model time: the target ran at time scale 0.02 (1 model second = 0.02 wall seconds), and so did the driver&#39;s clock.</p>")]
    public void Write_TimeScale_SaysWhichClockTheTimesAreOn(double scale, string expected)
    {
        var writer = new StringWriter();

        HtmlReport.Write(writer, ReportFixture.Build() with { TimeScale = scale });

        Assert.Contains(expected, writer.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_Report_IsSelfContainedWithTheTables()
    {
        var writer = new StringWriter();

        HtmlReport.Write(writer, ReportFixture.Build());

        string html = writer.ToString();
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.EndsWith("</body></html>", html.TrimEnd(), StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.Contains("<h2>Latency (ms; server-* in model time): chat</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<h2>Latency (ms; server-* in model time): batch, &quot;nightly&quot;</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<td>ResourceExhausted</td>", html, StringComparison.Ordinal);
        Assert.Contains("<p class=\"fail\">SLOs: broken.</p>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_NoSamples_StillDrawsEveryChart()
    {
        var empty = new RunReport(new MockServe.LoadTests.Measurement.RunStatistics(TimeSpan.Zero, []), [], []);
        var writer = new StringWriter();

        HtmlReport.Write(writer, empty);

        Assert.Equal(6, EmbeddedImage().Matches(writer.ToString()).Count);
    }

    [Fact]
    public void Write_ExtraSeries_OneChartPerChartTitle()
    {
        var report = ReportFixture.Build() with
        {
            Series =
            [
                new TimeSeries("Users over time", "chat", "users", [new(TimeSpan.Zero, 1), new(TimeSpan.FromSeconds(5), 4)]),
                new TimeSeries("Server: sequences", "decoding", "sequences", [new(TimeSpan.Zero, 0), new(TimeSpan.FromSeconds(1), 3)]),
                new TimeSeries("Server: sequences", "prefilling", "sequences", [new(TimeSpan.Zero, 1), new(TimeSpan.FromSeconds(1), 0)]),
            ],
        };
        var writer = new StringWriter();

        HtmlReport.Write(writer, report);

        var titles = EmbeddedImage().Matches(writer.ToString()).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(8, titles.Length);
        Assert.Equal(["Users over time", "Server: sequences"], titles[6..]);
    }
}
