using MockServe.Core.Capacity;
using MockServe.Core.Engine;

namespace MockServe.Core.Tests.Capacity;

public class SloSetTests
{
    [Fact]
    public void Parse_LoadDriverSyntax_ReadsEachKeyAndLimitInSeconds()
    {
        var set = SloSet.Parse("ttft-p99=5s, itl-p95=100ms,e2e-p50=1.5s");

        Assert.Equal(3, set.Thresholds.Count);
        Assert.Equal(new SloThreshold(SloMetric.Ttft, 99, 5.0), set.Thresholds[0]);
        Assert.Equal(SloMetric.Itl, set.Thresholds[1].Metric);
        Assert.Equal(95, set.Thresholds[1].Percentile);
        Assert.Equal(0.1, set.Thresholds[1].LimitSeconds, 12);
        Assert.Equal(new SloThreshold(SloMetric.E2e, 50, 1.5), set.Thresholds[2]);
        Assert.Equal("ttft-p99=5s,itl-p95=100ms,e2e-p50=1.5s", set.ToString());
    }

    [Theory]
    [InlineData("tpot-p99=5s", "tpot-p99")]
    [InlineData("ttft-p97=5s", "ttft-p97")]
    [InlineData("ttft=5s", "'ttft'")]
    [InlineData("ttft-p99", "'ttft-p99' has no '=LIMIT'")]
    [InlineData("ttft-p99=5", "'5'")]
    [InlineData("ttft-p99=-1s", "'-1s'")]
    [InlineData("itl-p99=2m", "'2m'")]
    [InlineData("ttft-p99=5s,ttft-p99=6s", "ttft-p99 is given twice")]
    public void Parse_BadItem_ThrowsNamingTheKeyOrValue(string text, string named)
    {
        var error = Assert.Throws<FormatException>(() => SloSet.Parse(text));

        Assert.StartsWith("--slo: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsMetBy_TurnOverOneLimit_IsNotGood()
    {
        var set = SloSet.Parse("ttft-p99=2s,itl-p99=50ms");
        // 256 tokens: ITL = decode seconds / 255. 10.2 s / 255 = 40 ms meets 50 ms; 15.3 s / 255 = 60 ms does not.
        var fast = Turn(ttft: 1.5, decodeSeconds: 10.2);
        var slowStream = Turn(ttft: 1.5, decodeSeconds: 15.3);
        var lateStart = Turn(ttft: 2.5, decodeSeconds: 10.2);

        Assert.True(set.IsMetBy(fast));
        Assert.False(set.IsMetBy(slowStream));
        Assert.False(set.IsMetBy(lateStart));
    }

    private static RequestResult Turn(double ttft, double decodeSeconds) => new()
    {
        Request = new InferenceRequest { RequestId = "r", PromptTokens = 10, MaxTokens = 256 },
        CompletionTokens = 256,
        ArrivalTime = 100,
        FirstTokenTime = 100 + ttft,
        FinishTime = 100 + ttft + decodeSeconds,
        DecodeSeconds = decodeSeconds,
    };
}
