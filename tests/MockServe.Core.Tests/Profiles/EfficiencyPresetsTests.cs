using MockServe.Core.Profiles;
using MockServe.Tests.Shared;

namespace MockServe.Core.Tests.Profiles;

public sealed class EfficiencyPresetsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static HardwareProfile Gpu(string id) => Presets.FindGpu(id)!;

    [Fact]
    public void Resolve_Peak_TheRooflineWithoutHostTime()
    {
        var peak = EfficiencyPresets.Resolve("PEAK", Gpu("a100-80gb"));

        Assert.Same(Efficiency.Peak, peak);
        Assert.Equal((1.0, 1.0, 0.0), (peak.PrefillComputeUtilization, peak.DecodeBandwidthUtilization, peak.StepOverheadSeconds));
    }

    [Theory]
    [InlineData("a100-80gb", 0.50, 0.55)]
    [InlineData("h100-sxm", 0.50, 0.60)]
    [InlineData("h200", 0.50, 0.60)]
    [InlineData("l40s", 0.50, 0.55)]
    [InlineData("mi300x", 0.50, 0.55)]
    public void Resolve_RealisticForEveryPresetGpu_SourcedValuesAndOverlappedHostTime(string gpu, double prefill, double decode)
    {
        var realistic = EfficiencyPresets.Resolve("realistic", Gpu(gpu));

        Assert.Equal((prefill, decode), (realistic.PrefillComputeUtilization, realistic.DecodeBandwidthUtilization));
        Assert.Equal((0.008, true), (realistic.StepOverheadSeconds, realistic.OverlapHostTime));
        Assert.Contains("vLLM blog 2024-09-05", realistic.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_RealisticForAGpuWithoutASet_RefusedNamingItAndTheWayOut()
    {
        var custom = Gpu("a100-80gb") with { Id = "my-gpu" };

        var ex = Assert.Throws<ProfileException>(() => EfficiencyPresets.Resolve("realistic", custom));

        Assert.Contains("no realistic efficiency for GPU 'my-gpu'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("mockserve calibrate", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_UnknownName_RefusedListingTheChoices()
    {
        var ex = Assert.Throws<ProfileException>(() => EfficiencyPresets.Resolve("fast", Gpu("a100-80gb")));

        Assert.Equal("unknown efficiency 'fast': expected peak, realistic or an efficiency file (.json, .yaml or .yml)", ex.Message);
    }

    [Fact]
    public void ToYamlThenLoad_EveryField_RoundTrips()
    {
        var efficiency = new Efficiency
        {
            PrefillComputeUtilization = 0.43,
            DecodeBandwidthUtilization = 0.71,
            StepOverheadSeconds = 0.0031,
            StepOverheadPerSequenceSeconds = 4.2e-5,
            OverlapHostTime = true,
            RequestOverheadSeconds = 0.012,
            FinishOverheadSeconds = 0.001,
            Source = "calibrated from \"bench.json\"",
        };
        string path = _dir.Write("fitted.yaml", EfficiencyFile.ToYaml(efficiency, ["written by a test"]));

        Assert.Equal(efficiency, EfficiencyPresets.Resolve(path, Gpu("h100-sxm")));
    }

    [Fact]
    public void Load_BadValues_RefusedWithFileLineAndField()
    {
        string path = _dir.Write("bad.yaml", "prefillComputeUtilization: 1.5\noverlapHostTime: maybe\nstepOverheadMs: 3\n");

        var ex = Assert.Throws<ProfileException>(() => EfficiencyFile.Load(path));

        Assert.Contains($"{path}:1: prefillComputeUtilization: must be in (0, 1], got 1.5", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"{path}:2: overlapHostTime:", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"{path}:3: stepOverheadMs: unknown field", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProfileOptions_RealisticWithAPrefillOverride_TheOverrideWinsTheRestStays()
    {
        var deployment = new ProfileOptions { Gpu = "h100-sxm", Efficiency = "realistic", PrefillUtilization = 0.7 }.ToDeployment();

        Assert.Equal((0.7, 0.60, 0.008), (
            deployment.Efficiency.PrefillComputeUtilization,
            deployment.Efficiency.DecodeBandwidthUtilization,
            deployment.Efficiency.StepOverheadSeconds));
    }

    [Fact]
    public void ProfileOptions_UnknownEfficiency_ErrorOnTheEfficiencyProperty()
    {
        var errors = new ProfileOptions { Efficiency = "fast" }.Validate();

        Assert.Contains(errors, e => e.Property == nameof(ProfileOptions.Efficiency) && e.Problem.StartsWith("unknown efficiency 'fast'", StringComparison.Ordinal));
    }
}
