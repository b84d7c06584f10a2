using MockServe.LoadTests.Dashboards;

namespace MockServe.LoadTests.Tests.Dashboards;

public class QueryTemplateTests
{
    private static readonly IReadOnlyList<TemplateVariable> Variables = GrafanaDashboard.Parse(GrafanaDashboardTests.Sample).Variables;
    private static readonly Dictionary<string, IReadOnlyList<string>> NoOverrides = [];

    private static QueryTemplate Template(IReadOnlyDictionary<string, IReadOnlyList<string>>? overrides = null, int stepSeconds = 10, int scrapeSeconds = 15) =>
        new(Variables, overrides ?? NoOverrides, TimeSpan.FromSeconds(stepSeconds), TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(scrapeSeconds));

    [Fact]
    public void Apply_MultiValueVariable_RegexEscapedValuesJoinedWithBar()
    {
        // Each '.' becomes \\. in the PromQL string (one backslash for the string, one for the regex), as Grafana writes it.
        string expr = Template().Apply("up{instance=~\"$instance\"}");

        Assert.Equal(@"up{instance=~""(127\\.0\\.0\\.1:9464|127\\.0\\.0\\.1:9465)""}", expr);
    }

    [Fact]
    public void Apply_EverySyntaxOfAVariable_SameValue()
    {
        string expr = Template().Apply("a{gpu=~\"$gpu\"} b{gpu=~\"${gpu}\"} c{gpu=~\"${gpu:regex}\"} d{gpu=~\"[[gpu]]\"} > $slo");

        // gpu is All with the custom All value h100.*; slo is a constant 5.
        Assert.Equal("a{gpu=~\"h100.*\"} b{gpu=~\"h100.*\"} c{gpu=~\"h100.*\"} d{gpu=~\"h100.*\"} > 5", expr);
    }

    [Fact]
    public void Apply_OverrideAll_WithoutCustomAllValue_MatchesAnything()
    {
        var template = Template(new Dictionary<string, IReadOnlyList<string>> { ["instance"] = ["All"] });

        Assert.Equal("up{instance=~\".*\"}", template.Apply("up{instance=~\"$instance\"}"));
    }

    [Fact]
    public void Apply_OverrideOneValue_TheValueUnescaped()
    {
        var template = Template(new Dictionary<string, IReadOnlyList<string>> { ["instance"] = ["127.0.0.1:9464"] });

        Assert.Equal("up{instance=~\"127.0.0.1:9464\"}", template.Apply("up{instance=~\"$instance\"}"));
    }

    [Theory]
    // step 10 s, scrape 15 s: max(10 + 15, 4 * 15) = 60 s.
    [InlineData(10, 15, "60s")]
    // step 30 s, scrape 5 s: max(30 + 5, 4 * 5) = 35 s.
    [InlineData(30, 5, "35s")]
    public void Apply_RateInterval_GrafanasRule(int step, int scrape, string expected)
    {
        Assert.Equal($"rate(x[{expected}])", Template(stepSeconds: step, scrapeSeconds: scrape).Apply("rate(x[$__rate_interval])"));
    }

    [Fact]
    public void Apply_IntervalAndRange_StepAndRangeAsPrometheusDurations()
    {
        // 15 minutes = 900 s.
        string expr = Template(stepSeconds: 10).Apply("avg_over_time(x[$__interval]) + increase(y[$__range]) + $__range_s + $__interval_ms");

        Assert.Equal("avg_over_time(x[10s]) + increase(y[900s]) + 900 + 10000", expr);
    }

    [Fact]
    public void Apply_UnknownVariable_LeftAsWritten()
    {
        Assert.Equal("x{a=\"$nope\"}", Template().Apply("x{a=\"$nope\"}"));
    }

    [Theory]
    [InlineData(15_000, "15s")]
    [InlineData(1_500, "1500ms")]
    [InlineData(120_000, "120s")]
    public void Duration_WholeSecondsOrMilliseconds(int milliseconds, string expected)
    {
        Assert.Equal(expected, QueryTemplate.Duration(TimeSpan.FromMilliseconds(milliseconds)));
    }
}
