using MockServe.LoadTests.Targets;

namespace MockServe.LoadTests.Tests.Targets;

public class PrometheusTextTests
{
    [Fact]
    public void Parse_Exposition_ReadsEverySampleLineAndSkipsComments()
    {
        const string text = """
            # HELP mockserve_prefill_tokens_total Prompt tokens prefilled.
            # TYPE mockserve_prefill_tokens_total counter
            mockserve_prefill_tokens_total 4000

            mockserve_sessions{state="resident"} 2
            mockserve_kv_swap_bytes_total{direction="out",tier="hbm"} 2.5e9 1700000000000
            mockserve_ttft_seconds_bucket{le="+Inf"} 7
            """;

        var samples = PrometheusText.Parse(text);

        Assert.Equal(4, samples.Count);
        Assert.Equal("mockserve_prefill_tokens_total", samples[0].Name);
        Assert.Empty(samples[0].Labels);
        Assert.Equal(4000, samples[0].Value);
        Assert.Equal("resident", samples[1].Labels["state"]);
        Assert.Equal(2, samples[1].Value);
        // The timestamp after the value is not the value.
        Assert.Equal(2.5e9, samples[2].Value);
        Assert.Equal(new Dictionary<string, string> { ["direction"] = "out", ["tier"] = "hbm" }, samples[2].Labels);
        Assert.Equal("+Inf", samples[3].Labels["le"]);
        Assert.Equal(7, samples[3].Value);
    }

    [Fact]
    public void Parse_SpecialValues_NaNAndInfinities()
    {
        var samples = PrometheusText.Parse("a NaN\nb +Inf\nc -Inf\nd Inf\n");

        Assert.True(double.IsNaN(samples[0].Value));
        Assert.Equal(double.PositiveInfinity, samples[1].Value);
        Assert.Equal(double.NegativeInfinity, samples[2].Value);
        Assert.Equal(double.PositiveInfinity, samples[3].Value);
    }

    [Fact]
    public void Parse_EscapedLabelValue_Unescaped()
    {
        var sample = Assert.Single(PrometheusText.Parse("build_info{model=\"a\\\"b\\\\c\\nd\",gpu=\"x,y}\"} 1"));

        Assert.Equal("a\"b\\c\nd", sample.Labels["model"]);
        Assert.Equal("x,y}", sample.Labels["gpu"]);
    }

    [Fact]
    public void Parse_MalformedLines_SkippedAndTheRestKept()
    {
        var samples = PrometheusText.Parse("unclosed{x=\"1\" 3\nnovalue\nword abc\nbare{x=1} 2\nok 5\r\n");

        var sample = Assert.Single(samples);
        Assert.Equal("ok", sample.Name);
        Assert.Equal(5, sample.Value);
    }

    [Fact]
    public void Sum_LabelGiven_SumsOnlyTheSamplesCarryingIt()
    {
        var samples = PrometheusText.Parse("""
            busy{phase="prefill",gpu="0"} 1.5
            busy{phase="prefill",gpu="1"} 2
            busy{phase="decode",gpu="0"} 10
            """);

        Assert.Equal(1.5 + 2, PrometheusText.Sum(samples, "busy", ("phase", "prefill")));
        Assert.Equal(1.5 + 2 + 10, PrometheusText.Sum(samples, "busy"));
        Assert.Null(PrometheusText.Sum(samples, "busy", ("phase", "swap")));
        Assert.Null(PrometheusText.Sum(samples, "idle"));
    }
}
