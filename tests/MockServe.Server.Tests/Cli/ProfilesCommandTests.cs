using System.Text.Json;

using MockServe.Core.Profiles;

namespace MockServe.Server.Tests.Cli;

public sealed class ProfilesCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Profiles_Table_ListsEveryPresetId()
    {
        var run = CliRun.Of("profiles");

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        var firstColumn = run.Out.Split(Environment.NewLine)
            .Select(line => line.Trim().Split(' ')[0])
            .ToHashSet();
        Assert.All(Presets.Models.Select(m => m.Id).Concat(Presets.Gpus.Select(g => g.Id)), id => Assert.Contains(id, firstColumn));
    }

    [Fact]
    public void Profiles_Table_ShowsKvBytesPerTokenOfEachModel()
    {
        var run = CliRun.Of("profiles");

        // deepseek-v2-lite caches one 576-wide latent per layer: 27 x 576 x 2 bytes = 31,104 bytes = 30.4 KiB.
        string line = run.Out.Split(Environment.NewLine).Single(l => l.TrimStart().StartsWith("deepseek-v2-lite", StringComparison.Ordinal));
        Assert.Contains("30.4 KiB", line);
        Assert.Contains("MLA", line);
    }

    [Fact]
    public void Profiles_Json_EachModelLoadsBackAsTheSamePreset()
    {
        var run = CliRun.Of("profiles", "--format", "json");
        var models = JsonDocument.Parse(run.Out).RootElement.GetProperty("models");

        Assert.Equal(Presets.Models.Count, models.GetArrayLength());
        foreach (var (element, preset) in models.EnumerateArray().Zip(Presets.Models))
        {
            string path = _dir.Write($"{preset.Id}.json", element.GetRawText());
            Assert.Equal(preset, ProfileLoader.LoadModel(path));
        }
    }

    [Fact]
    public void Profiles_Json_EachGpuLoadsBackAsTheSamePreset()
    {
        var run = CliRun.Of("profiles", "--format", "json");
        var gpus = JsonDocument.Parse(run.Out).RootElement.GetProperty("gpus");

        Assert.Equal(Presets.Gpus.Count, gpus.GetArrayLength());
        foreach (var (element, preset) in gpus.EnumerateArray().Zip(Presets.Gpus))
        {
            string path = _dir.Write($"{preset.Id}.json", element.GetRawText());
            Assert.Equal(preset, ProfileLoader.LoadGpu(path));
        }
    }
}
