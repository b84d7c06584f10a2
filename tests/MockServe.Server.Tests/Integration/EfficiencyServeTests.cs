using MockServe.Contracts.V1;

namespace MockServe.Server.Tests.Integration;

/// <summary>serve --efficiency and --weight-bits: what GetServerInfo reports and what the stream's timing follows.</summary>
[Collection(TestServer.Collection)]
public class EfficiencyServeTests
{
    [Fact]
    public async Task GetServerInfo_Default_PeakAndSixteenBitWeights()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();

        var info = await server.Client.GetServerInfoAsync(new GetServerInfoRequest());

        Assert.Equal(16, info.WeightBits);
        Assert.Equal((1.0, 1.0, 0.0, false), (
            info.Efficiency.PrefillComputeUtilization, info.Efficiency.DecodeBandwidthUtilization, info.Efficiency.StepOverheadSeconds, info.Efficiency.OverlapHostTime));
    }

    [Fact]
    public async Task GetServerInfo_RealisticAndEightBitWeights_ReportedAndTheWeightsHalved()
    {
        await using var server = await TestServer.StartOnFakeClockAsync(("Profile:Efficiency", "realistic"), ("Profile:WeightBits", "8"));

        var info = await server.Client.GetServerInfoAsync(new GetServerInfoRequest());

        Assert.Equal(8, info.WeightBits);
        Assert.Equal(34.39e9, info.Capacity.WeightBytes, 1);
        Assert.Equal((0.5, 0.55, 0.008, true), (
            info.Efficiency.PrefillComputeUtilization, info.Efficiency.DecodeBandwidthUtilization, info.Efficiency.StepOverheadSeconds, info.Efficiency.OverlapHostTime));
        Assert.Contains("Databricks", info.Efficiency.Source, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_Realistic_PrefillTakesTwiceThePeaksTime()
    {
        // 4,000 tokens on the A100 are compute bound: at half the FLOP/s the prefill takes twice as long (the 8 ms of
        // host time overlaps the GPU's 0.9 s).
        await using var peak = await TestServer.StartOnFakeClockAsync();
        await using var realistic = await TestServer.StartOnFakeClockAsync(("Profile:Efficiency", "realistic"));
        var request = new GenerateRequest { PromptTokens = 4000, MaxTokens = 2, IgnoreEos = true };

        var fast = await peak.DriveAsync(peak.GenerateAsync(request));
        var slow = await realistic.DriveAsync(realistic.GenerateAsync(request));

        double peakPrefill = fast.Complete.Timing.Prefill.ToTimeSpan().TotalSeconds;
        Assert.Equal(YiOnA100.Prefill(4000, 0), peakPrefill, 6);
        Assert.Equal(2 * peakPrefill, slow.Complete.Timing.Prefill.ToTimeSpan().TotalSeconds, 6);
    }
}
