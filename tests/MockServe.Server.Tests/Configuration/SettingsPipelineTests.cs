using System.CommandLine;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Cli;
using MockServe.Server.Configuration;
using MockServe.Server.Hosting;
using MockServe.Server.Tests.Cli;

namespace MockServe.Server.Tests.Configuration;

public sealed class SettingsPipelineTests : IDisposable
{
    private static readonly string[] EveryProfileFlag =
    [
        "--model", "Mixtral-8x7B", "--gpu", "h200", "--tp", "4", "--kv-layers", "0.5", "--kv-heads", "0.25",
        "--kv-tokens", "0.8", "--kv-bits", "4", "--prefill-util", "0.6", "--decode-util", "0.7",
    ];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Build_SameProfileFlags_EstimateSimulateAndServeServeTheSameDeployment()
    {
        var expected = new Deployment
        {
            Model = Presets.FindModel("mixtral-8x7b")!,
            Gpu = Presets.FindGpu("h200")!,
            TensorParallel = 4,
            Efficiency = new Efficiency { PrefillComputeUtilization = 0.6, DecodeBandwidthUtilization = 0.7 },
            Compression = new KvCompression { LayersKept = 0.5, HeadsKept = 0.25, TokensKept = 0.8, Bits = 4 },
        };

        using var estimate = SettingsFlags.Load(Parse(["estimate", .. EveryProfileFlag]), CliRun.NoSources, EstimateCommand.Sections);
        using var simulate = SettingsFlags.Load(Parse(["simulate", "--users", "1", .. EveryProfileFlag]), CliRun.NoSources, SimulateCommand.Sections);
        var serve = MockServeApp.Build(CliRun.NoSources, SettingsFlags.Overrides(Parse(["serve", .. EveryProfileFlag]), ServeCommand.Sections));
        await using var _ = serve;

        Assert.Equal(expected, estimate.Get<ProfileOptions>().ToDeployment());
        Assert.Equal(expected, simulate.Get<ProfileOptions>().ToDeployment());
        Assert.Equal(expected, serve.Services.GetRequiredService<Deployment>());
        Assert.Equal(expected, serve.Services.GetRequiredService<EngineHost>().Deployment);
    }

    [Fact]
    public void Load_NoSources_IsEveryDefault()
    {
        using var settings = ValidatedSettings.Load(CliRun.NoSources, [], Settings.All);

        Assert.Equal(Presets.DefaultDeployment, settings.Get<ProfileOptions>().ToDeployment());
        Assert.Equal(new EngineOptions(), settings.Get<EngineOptions>());
        Assert.Equal(50051, settings.Get<ServerOptions>().Port);
    }

    [Fact]
    public void Load_SuffixedValuesFromVariables_MeanWhatTheFlagsWouldMean()
    {
        var environment = new Dictionary<string, string>
        {
            ["MockServe__Engine__SessionTtlSeconds"] = "2m",
            ["MockServe__Engine__MaxBatchedTokens"] = "4k",
            ["MockServe__Engine__SwapEnabled"] = "false",
            ["MockServe__Server__DrainSeconds"] = "1500ms",
        };

        using var settings = ValidatedSettings.Load(new SettingSources(null, environment), [], [Settings.Engine, Settings.Server]);

        var engine = settings.Get<EngineOptions>();
        Assert.Equal((2 * 60.0, 4 * 1000, false), (engine.SessionTtlSeconds, engine.MaxBatchedTokens, engine.SwapEnabled));
        Assert.Equal(1.5, settings.Get<ServerOptions>().DrainSeconds);
    }

    [Fact]
    public void Overrides_FlagsGiven_OverrideTheirKeysOnly()
    {
        var overrides = SettingsFlags.Overrides(Parse(["serve", "--no-swap", "--session-ttl", "90s", "--failure-kinds", "abort", "stall"]), ServeCommand.Sections);

        Assert.Equal(
            [
                new ConfigurationEntry("MockServe:Engine:SwapEnabled", "False", "--no-swap"),
                new ConfigurationEntry("MockServe:Engine:SessionTtlSeconds", "90s", "--session-ttl"),
                new ConfigurationEntry("MockServe:FailureInjection:Kinds:0", "abort", "--failure-kinds"),
                new ConfigurationEntry("MockServe:FailureInjection:Kinds:1", "stall", "--failure-kinds"),
            ],
            overrides);
    }

    [Fact]
    public void Load_ListFromAFlagAndAppSettings_IsTheFlagsListWhole()
    {
        string file = _dir.Write("appsettings.json", """{ "MockServe": { "FailureInjection": { "Kinds": ["refuse", "abort", "stall"] } } }""");
        var overrides = SettingsFlags.Overrides(Parse(["serve", "--failure-kinds", "stall"]), ServeCommand.Sections);

        using var settings = ValidatedSettings.Load(new SettingSources(file, new Dictionary<string, string>()), overrides, [Settings.FailureInjection]);

        // Item 0 of the flag must not merge with items 1 and 2 of the file.
        Assert.Equal(["stall"], settings.Get<FailureInjectionOptions>().Kinds);
    }

    [Fact]
    public void Load_CommaSeparatedListInAVariable_IsSplit()
    {
        var environment = new Dictionary<string, string> { ["MockServe__FailureInjection__Kinds"] = "refuse, stall" };

        using var settings = ValidatedSettings.Load(new SettingSources(null, environment), [], [Settings.FailureInjection]);

        Assert.Equal(["refuse", "stall"], settings.Get<FailureInjectionOptions>().Kinds);
    }

    [Fact]
    public void Build_BadSettingsInTwoSections_ThrowsTheStartupValidatorsAggregate()
    {
        var environment = new Dictionary<string, string> { ["MockServe__Engine__MaxRunning"] = "0" };
        ConfigurationEntry[] flags = [new("MockServe:Server:TimeScale", "0", "--time-scale")];

        var ex = Assert.Throws<AggregateException>(() => MockServeApp.Build(new SettingSources(null, environment), flags));

        Assert.All(ex.InnerExceptions, e => Assert.IsType<OptionsValidationException>(e));
        Assert.True(SettingsFailure.TryGetLines(ex, out var lines));
        Assert.Equal(
            ["--time-scale: must be more than 0 and at most 1000, got 0", "MockServe__Engine__MaxRunning: must be between 1 and 65536, got 0"],
            lines);
    }

    [Fact]
    public void Build_KeyOverrides_AreNamedByKey()
    {
        var overrides = new Dictionary<string, string?> { ["MockServe:Profile:KvTokens"] = "0" };

        var ex = Assert.Throws<OptionsValidationException>(() => MockServeApp.Build(overrides));

        Assert.Equal(["MockServe:Profile:KvTokens: must be in (0, 1], got 0"], ex.Failures);
    }

    [Fact]
    public void AppSettings_Shipped_SetsNoSettingSoTheDefaultsLiveInTheOptionsClasses()
    {
        string file = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        var configuration = new SettingSources(file, new Dictionary<string, string>()).AddTo(new ConfigurationBuilder(), []).Build();

        Assert.True(File.Exists(file));
        Assert.All(Settings.All.SelectMany(s => s.Settings), s => Assert.Null(SettingSources.Read(configuration, s.Key)));
        Assert.Equal("Information", configuration["Logging:LogLevel:Default"]);
    }

    private static ParseResult Parse(string[] args)
    {
        var parseResult = CliApp.CreateRootCommand(CliRun.NoSources).Parse(args);
        Assert.Empty(parseResult.Errors);
        return parseResult;
    }
}
