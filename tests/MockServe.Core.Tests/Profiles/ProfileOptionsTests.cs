using MockServe.Core.Profiles;

namespace MockServe.Core.Tests.Profiles;

public sealed class ProfileOptionsTests : IDisposable
{
    private const string EightWayNode = """
        id: eight-way
        hbmBytes: 80e9
        hbmBandwidth: 3e12
        peakFlops: 1e15
        hostLinkBandwidth: 64e9
        interconnectBandwidth: 900e9
        gpuCount: 8
        """;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ToDeployment_Defaults_IsTheDefaultDeployment()
    {
        Assert.Equal(Presets.DefaultDeployment, new ProfileOptions().ToDeployment());
    }

    [Fact]
    public void ToDeployment_EveryProperty_LandsInTheDeployment()
    {
        var options = new ProfileOptions
        {
            Model = "Mixtral-8x7B",
            Gpu = "h200",
            TensorParallel = 4,
            KvLayers = 0.5,
            KvHeads = 0.25,
            KvTokens = 0.8,
            KvBits = 4,
            PrefillUtilization = 0.6,
            DecodeUtilization = 0.7,
        };

        Assert.Equal(
            new Deployment
            {
                Model = Presets.FindModel("mixtral-8x7b")!,
                Gpu = Presets.FindGpu("h200")!,
                TensorParallel = 4,
                Efficiency = new Efficiency { PrefillComputeUtilization = 0.6, DecodeBandwidthUtilization = 0.7 },
                Compression = new KvCompression { LayersKept = 0.5, HeadsKept = 0.25, TokensKept = 0.8, Bits = 4 },
            },
            options.ToDeployment());
    }

    [Fact]
    public void ToDeployment_TensorParallelUnset_IsTheGpuProfilesGpuCount()
    {
        string path = _dir.Write("node.yaml", EightWayNode);

        Assert.Equal(8, new ProfileOptions { Gpu = path }.ToDeployment().TensorParallel);
    }

    [Fact]
    public void ToDeployment_BadValue_ThrowsNamingTheProperty()
    {
        var ex = Assert.Throws<ProfileException>(() => new ProfileOptions { KvLayers = 1.5 }.ToDeployment());

        Assert.Equal("KvLayers: must be in (0, 1], got 1.5", ex.Message);
    }

    [Theory]
    [InlineData(nameof(ProfileOptions.KvLayers), "must be in (0, 1], got 1.5")]
    [InlineData(nameof(ProfileOptions.DecodeUtilization), "must be in (0, 1], got 0")]
    [InlineData(nameof(ProfileOptions.TensorParallel), "must be between 1 and 64, got 65")]
    [InlineData(nameof(ProfileOptions.KvBits), "must be between 1 and 32, got 64")]
    public void Validate_ValueOutOfRange_NamesThePropertyNotTheCoreField(string property, string problem)
    {
        var options = property switch
        {
            nameof(ProfileOptions.KvLayers) => new ProfileOptions { KvLayers = 1.5 },
            nameof(ProfileOptions.DecodeUtilization) => new ProfileOptions { DecodeUtilization = 0 },
            nameof(ProfileOptions.TensorParallel) => new ProfileOptions { TensorParallel = 65 },
            _ => new ProfileOptions { KvBits = 64 },
        };

        Assert.Equal([new SettingError(property, problem)], options.Validate());
    }

    [Fact]
    public void Validate_MissingGpuFile_NamesGpuAndThePath()
    {
        string path = Path.Combine(_dir.Path, "nope.yaml");

        var error = Assert.Single(new ProfileOptions { Gpu = path }.Validate());

        Assert.Equal(nameof(ProfileOptions.Gpu), error.Property);
        Assert.StartsWith($"{path}: profile file not found", error.Problem);
    }

    [Fact]
    public void Validate_UnknownModelAndBadFraction_ReportsBoth()
    {
        var errors = new ProfileOptions { Model = "gpt-5", KvHeads = 2 }.Validate();

        Assert.Equal(
            [nameof(ProfileOptions.Model), nameof(ProfileOptions.KvHeads)],
            errors.Select(e => e.Property));
        Assert.StartsWith("unknown model 'gpt-5'", errors[0].Problem);
    }

    [Fact]
    public void Validate_GpuTooSmallForTheActivationReserve_NamesGpu()
    {
        // 1 GB of HBM is below the 2 GiB = 2,147,483,648-byte activation reserve.
        string path = _dir.Write("small.yaml", EightWayNode.Replace("hbmBytes: 80e9", "hbmBytes: 1e9", StringComparison.Ordinal));

        var errors = new ProfileOptions { Gpu = path }.Validate();

        Assert.Equal(
            [new SettingError(nameof(ProfileOptions.Gpu), "activationReserveBytes: must be at least 0 and below the GPU's HBM 1E+09, got 2.147E+09")],
            errors);
    }
}
