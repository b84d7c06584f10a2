using MockServe.Core.Profiles;

namespace MockServe.Core.Tests.Profiles;

public sealed class ProfileCatalogTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> ModelIds => [.. Presets.Models.Select(m => m.Id)];

    public static TheoryData<string> GpuIds => [.. Presets.Gpus.Select(g => g.Id)];

    [Theory]
    [MemberData(nameof(ModelIds))]
    public void PresetModel_Validate_HasNoErrors(string id)
    {
        Assert.Empty(Presets.FindModel(id)!.Validate());
    }

    [Theory]
    [MemberData(nameof(GpuIds))]
    public void PresetGpu_Validate_HasNoErrors(string id)
    {
        Assert.Empty(Presets.FindGpu(id)!.Validate());
    }

    [Fact]
    public void DefaultDeployment_Validate_HasNoErrors()
    {
        Assert.Empty(Presets.DefaultDeployment.Validate());
    }

    [Fact]
    public void ResolveModel_PresetIdInAnyCase_ReturnsPreset()
    {
        Assert.Same(Presets.FindModel("llama-3.1-8b"), ProfileCatalog.ResolveModel("Llama-3.1-8B"));
    }

    [Fact]
    public void ResolveGpu_PresetIdInAnyCase_ReturnsPreset()
    {
        Assert.Same(Presets.FindGpu("h100-sxm"), ProfileCatalog.ResolveGpu("H100-SXM"));
    }

    [Fact]
    public void ResolveModel_UnknownId_NamesValueAndListsPresets()
    {
        var ex = Assert.Throws<ProfileException>(() => ProfileCatalog.ResolveModel("gpt-5"));

        Assert.Equal(
            "unknown model 'gpt-5': not a preset id (yi-34b, llama-3.1-8b, llama-3.1-70b, mixtral-8x7b, "
            + "deepseek-v2-lite) nor a profile file (.json, .yaml or .yml)",
            ex.Message);
    }

    [Fact]
    public void ResolveGpu_UnknownId_NamesValueAndListsPresets()
    {
        var ex = Assert.Throws<ProfileException>(() => ProfileCatalog.ResolveGpu("b200"));

        Assert.Equal(
            "unknown GPU 'b200': not a preset id (a100-80gb, h100-sxm, h200, l40s, mi300x) "
            + "nor a profile file (.json, .yaml or .yml)",
            ex.Message);
    }

    [Fact]
    public void ResolveGpu_PathToFile_LoadsIt()
    {
        string path = _dir.Write("gpu.yml", """
            id: my-gpu
            hbmBytes: 24e9
            hbmBandwidth: 1e12
            peakFlops: 165e12
            hostLinkBandwidth: 32e9
            interconnectBandwidth: 32e9
            """);

        Assert.Equal("my-gpu", ProfileCatalog.ResolveGpu(path).Id);
    }

    [Fact]
    public void ResolveModel_MissingFile_ReportsNotFound()
    {
        string path = Path.Combine(_dir.Path, "nope.json");

        var ex = Assert.Throws<ProfileException>(() => ProfileCatalog.ResolveModel(path));

        Assert.StartsWith($"{path}: profile file not found", ex.Message);
    }
}
