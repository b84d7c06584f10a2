using MockServe.Core.CostModel;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Core.Tests.Engine;
using MockServe.Tests.Shared;

namespace MockServe.Core.Tests.CostModel;

/// <summary>
/// Weight precision and host overheads against figures worked by hand: Yi-34B (34.39e9 parameters) on the A100
/// (80 GiB, 2.039 TB/s, 312 TFLOP/s BF16, no FP8) and the H100 SXM (3.35 TB/s, 989 TFLOP/s BF16, 1,979 FP8).
/// </summary>
public sealed class RealDeploymentTests
{
    private const double GiB = 1024.0 * 1024 * 1024;

    private static Deployment Yi(string gpu = "a100-80gb", double? weightBits = null, Efficiency? efficiency = null) => new()
    {
        Model = Presets.FindModel("yi-34b")!,
        Gpu = Presets.FindGpu(gpu)!,
        WeightBits = weightBits,
        Efficiency = efficiency ?? Efficiency.Peak,
    };

    private static void Close(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= Math.Abs(expected) * 1e-9, $"expected {expected:R}, got {actual:R}");

    [Theory]
    [InlineData(16, 68.78e9)]
    [InlineData(8, 34.39e9)]
    [InlineData(4, 17.195e9)]
    public void WeightBits_YiOnA100_WeightBytesAndHbmLeftForKv(double bits, double weightBytes)
    {
        var model = new GpuCostModel(Yi(weightBits: bits));

        Close(weightBytes, model.WeightBytes);
        // 80 GiB less weights less the 2 GiB activation reserve.
        Close((78 * GiB) - weightBytes, model.KvCapacityBytes);
        // A 50K user holds 12.288 GB of KV: 16 bits leave 14.97 GB (1 user), 8 bits 49.36 GB (4), 4 bits 66.56 GB (5).
        Assert.Equal(bits switch { 16 => 1, 8 => 4, _ => 5 }, model.MaxConcurrentUsers(50_000));
    }

    [Fact]
    public void WeightBits_Four_DecodeStepReadsAQuarterOfTheWeights()
    {
        var model = new GpuCostModel(Yi(weightBits: 4));

        // Memory bound: 17.195 GB of weights + 10,000 x 245,760 B of KV over 2.039 TB/s.
        Close((17.195e9 + (10_000 * YiOnA100.KvPerToken)) / 2.039e12, model.DecodeStepSeconds(10_000));
        Close(17.195e9, model.WeightBytesRead(1));
    }

    [Fact]
    public void WeightBits_EightOnH100_PrefillAtTheFp8Peak()
    {
        var fp8 = new GpuCostModel(Yi("h100-sxm", weightBits: 8));
        var bf16 = new GpuCostModel(Yi("h100-sxm"));

        double flops = (2 * 34.39e9 * 8000) + (YiOnA100.AttnPerPair * 8000 * 8001 / 2);
        Close(flops / 1979e12, fp8.PrefillSeconds(8000, 0));
        Close(flops / 989e12, bf16.PrefillSeconds(8000, 0));
        Assert.True(Yi("h100-sxm", weightBits: 8).ComputesInFp8);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    public void WeightBits_NoFp8OnA100OrFourBits_PrefillStaysAtTheBf16Peak(double bits)
    {
        Assert.False(Yi("a100-80gb", weightBits: 8).ComputesInFp8);
        Assert.False(Yi("h100-sxm", weightBits: 4).ComputesInFp8);
        var model = new GpuCostModel(Yi(weightBits: bits));

        double flops = (2 * 34.39e9 * 8000) + (YiOnA100.AttnPerPair * 8000 * 8001 / 2);
        Close(flops / 312e12, model.PrefillSeconds(8000, 0));
    }

    [Fact]
    public void WeightBits_OutOfRange_RefusedNamingTheField()
    {
        var errors = Yi(weightBits: 0.5).Validate();

        Assert.Contains(errors, e => e.Property == "weightBits" && e.Problem.Contains("between 1 and 32, got 0.5", StringComparison.Ordinal));
    }

    [Fact]
    public void StepSeconds_HostOverheadAdded_GpuTimePlusFixedPlusPerSequence()
    {
        var efficiency = new Efficiency { StepOverheadSeconds = 0.004, StepOverheadPerSequenceSeconds = 0.0001 };
        var model = new GpuCostModel(Yi(efficiency: efficiency));
        var cost = default(StepCost);
        cost.AddDecode(1000);
        cost.AddDecode(3000);
        cost.AddPrefill(500, 0);

        // Three sequences: 4 ms + 3 x 0.1 ms of host time after the GPU's 34.x ms.
        Assert.Equal(3, cost.Sequences);
        Close(model.GpuStepSeconds(cost) + 0.0043, model.StepSeconds(cost));
    }

    [Fact]
    public void StepSeconds_HostOverheadOverlapped_TheLongerOfTheTwo()
    {
        var hidden = new GpuCostModel(Yi(efficiency: new Efficiency { StepOverheadSeconds = 0.008, OverlapHostTime = true }));
        var binding = new GpuCostModel(Yi(efficiency: new Efficiency { StepOverheadSeconds = 0.050, OverlapHostTime = true }));

        // One decode of Yi-34B reads 68.78 GB: 33.7 ms on the A100, longer than 8 ms of host time, shorter than 50.
        Close(YiOnA100.Decode(1000), hidden.DecodeStepSeconds(1000));
        Close(0.050, binding.DecodeStepSeconds(1000));
    }

    [Fact]
    public void Engine_RequestAndFinishOverhead_TtftAndEndLaterByThem()
    {
        var efficiency = new Efficiency { RequestOverheadSeconds = 0.020, FinishOverheadSeconds = 0.005 };
        var h = new EngineHarness(Yi(efficiency: efficiency));
        h.Submit("a", 1000, 3);

        var a = h.Run("a");

        // Ready 20 ms after arrival, then the prefill; the 3rd token after two decode steps; the response 5 ms later.
        Close(0.020 + YiOnA100.Prefill(1000, 0), a.TimeToFirstToken);
        Close(0.020, a.QueueSeconds);
        double lastToken = 0.020 + YiOnA100.Prefill(1000, 0) + YiOnA100.Decode(1000) + YiOnA100.Decode(1001);
        Close(lastToken + 0.005, a.FinishTime);
        Assert.Equal(lastToken + 0.005, h.Events.Single(e => e.Kind == EngineEventKind.Finished).Time, 9);
    }

    [Fact]
    public void Engine_CancelAllWhileAResponseIsFinishing_EndsItOnce()
    {
        var h = new EngineHarness(Yi(efficiency: new Efficiency { FinishOverheadSeconds = 1 }));
        var handle = h.Submit("a", 1000, 2).Handle!;
        h.Clock.RunUntil(0.5);
        Assert.False(handle.IsFinished);

        h.Engine.CancelAll();
        Assert.True(h.Clock.RunUntilIdle(1000));

        Assert.True(handle.IsFinished);
        Assert.Single(h.Events, e => e.Kind == EngineEventKind.Finished);
        Assert.Equal(FinishReason.Length, h.Results["a"].FinishReason);
    }
}
