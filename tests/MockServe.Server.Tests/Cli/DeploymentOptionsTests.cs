using System.CommandLine;

using MockServe.Core.Profiles;
using MockServe.Server.Cli;

namespace MockServe.Server.Tests.Cli;

public sealed class DeploymentOptionsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Build_NoOptions_IsTheDefaultDeployment()
    {
        Assert.Equal(Presets.DefaultDeployment, Build());
    }

    [Fact]
    public void Build_EveryOption_LandsInTheDeployment()
    {
        var deployment = Build(
            "--model", "Mixtral-8x7B", "--gpu", "h200", "--tp", "4", "--kv-layers", "0.5", "--kv-heads", "0.25",
            "--kv-tokens", "0.8", "--kv-bits", "4", "--prefill-util", "0.6", "--decode-util", "0.7");

        Assert.Equal(
            new Deployment
            {
                Model = Presets.FindModel("mixtral-8x7b")!,
                Gpu = Presets.FindGpu("h200")!,
                TensorParallel = 4,
                Efficiency = new Efficiency { PrefillComputeUtilization = 0.6, DecodeBandwidthUtilization = 0.7 },
                Compression = new KvCompression { LayersKept = 0.5, HeadsKept = 0.25, TokensKept = 0.8, Bits = 4 },
            },
            deployment);
    }

    [Fact]
    public void Build_TpOmitted_IsTheGpuProfilesGpuCount()
    {
        string path = _dir.Write("node.yaml", """
            id: eight-way
            hbmBytes: 80e9
            hbmBandwidth: 3e12
            peakFlops: 1e15
            hostLinkBandwidth: 64e9
            interconnectBandwidth: 900e9
            gpuCount: 8
            """);

        Assert.Equal(8, Build("--gpu", path).TensorParallel);
    }

    [Fact]
    public void Build_FractionAboveOne_ThrowsNamingTheOption()
    {
        var ex = Assert.Throws<CliException>(() => Build("--kv-layers", "1.5"));

        Assert.Equal("--kv-layers: must be in (0, 1], got 1.5", ex.Message);
    }

    [Fact]
    public void Build_UtilizationZero_ThrowsNamingTheOption()
    {
        var ex = Assert.Throws<CliException>(() => Build("--decode-util", "0"));

        Assert.Equal("--decode-util: must be in (0, 1], got 0", ex.Message);
    }

    [Fact]
    public void Build_TpTooLarge_ThrowsNamingTheOption()
    {
        var ex = Assert.Throws<CliException>(() => Build("--tp", "65"));

        Assert.Equal("--tp: must be between 1 and 64, got 65", ex.Message);
    }

    [Fact]
    public void Build_MissingProfileFile_ThrowsNamingOptionAndPath()
    {
        string path = Path.Combine(_dir.Path, "nope.yaml");

        var ex = Assert.Throws<CliException>(() => Build("--gpu", path));

        Assert.StartsWith($"--gpu: {path}: profile file not found", ex.Message);
    }

    [Fact]
    public void AddTo_TwoCommands_EachGetsItsOwnOptions()
    {
        var first = new Command("first");
        var second = new Command("second");

        new DeploymentOptions().AddTo(first);
        new DeploymentOptions().AddTo(second);

        Assert.Equal(9, first.Options.Count);
        Assert.Equal(first.Options.Select(o => o.Name), second.Options.Select(o => o.Name));
    }

    private static Deployment Build(params string[] args)
    {
        var options = new DeploymentOptions();
        var command = new RootCommand();
        options.AddTo(command);
        var parseResult = command.Parse(args);
        Assert.Empty(parseResult.Errors);
        return options.Build(parseResult);
    }
}
