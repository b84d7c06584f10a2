using MockServe.Server.Configuration;
using MockServe.Server.Tests.Cli;

namespace MockServe.Server.Tests.Configuration;

/// <summary>
/// One message format whichever source held the value: "&lt;setting as the user wrote it&gt;: &lt;problem&gt;",
/// the flag when a flag set it, else the environment variable, else the configuration key of appsettings.json.
/// </summary>
public sealed class SettingNamesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public enum Source
    {
        Flag,
        Environment,
        AppSettings,
    }

    [Theory]
    [InlineData(Source.Flag, "--kv-layers")]
    [InlineData(Source.Environment, "MockServe__Profile__KvLayers")]
    [InlineData(Source.AppSettings, "MockServe:Profile:KvLayers")]
    public void Estimate_KvLayersAboveOne_FailsNamingItAsWritten(Source source, string name)
    {
        var run = Run(source, "estimate", "Profile", "KvLayers", "--kv-layers", "1.5");

        Assert.Equal((1, ""), (run.ExitCode, run.Out));
        Assert.Equal($"error: {name}: must be in (0, 1], got 1.5{Environment.NewLine}", run.Error);
    }

    [Theory]
    [InlineData(Source.Flag, "--max-running")]
    [InlineData(Source.Environment, "MockServe__Engine__MaxRunning")]
    [InlineData(Source.AppSettings, "MockServe:Engine:MaxRunning")]
    public void Serve_MaxRunningZero_FailsNamingItAsWritten(Source source, string name)
    {
        var run = Run(source, "serve", "Engine", "MaxRunning", "--max-running", "0");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: {name}: must be between 1 and 65536, got 0{Environment.NewLine}", run.Error);
    }

    [Theory]
    [InlineData(Source.Flag, "--max-running")]
    [InlineData(Source.Environment, "MockServe__Engine__MaxRunning")]
    [InlineData(Source.AppSettings, "MockServe:Engine:MaxRunning")]
    public void Simulate_MaxRunningNotANumber_FailsAsASettingNotAStackTrace(Source source, string name)
    {
        var run = Run(source, "simulate", "Engine", "MaxRunning", "--max-running", "abc", "--users", "2");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: {name}: expected a whole number, got 'abc'{Environment.NewLine}", run.Error);
    }

    [Theory]
    [InlineData(Source.Flag, "--time-scale")]
    [InlineData(Source.Environment, "MockServe__Server__TimeScale")]
    [InlineData(Source.AppSettings, "MockServe:Server:TimeScale")]
    public void Serve_TimeScaleNegative_FailsNamingItAsWritten(Source source, string name)
    {
        var run = Run(source, "serve", "Server", "TimeScale", "--time-scale", "-1");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: {name}: must be more than 0 and at most 1000, got -1{Environment.NewLine}", run.Error);
    }

    [Fact]
    public void Estimate_FlagAndVariable_TheFlagWins()
    {
        var sources = CliRun.NoSources with { Environment = new Dictionary<string, string> { ["MockServe__Profile__KvLayers"] = "1.5" } };

        var run = CliRun.With(sources, "estimate", "--kv-layers", "0.5", "--format", "json");

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
    }

    [Fact]
    public void Estimate_VariableAndAppSettings_TheVariableWinsAndIsNamed()
    {
        string file = _dir.Write("appsettings.json", """{ "MockServe": { "Profile": { "KvBits": 8 } } }""");
        var sources = new SettingSources(file, new Dictionary<string, string> { ["MockServe__Profile__KvBits"] = "64" });

        var run = CliRun.With(sources, "estimate");

        Assert.Equal($"error: MockServe__Profile__KvBits: must be between 1 and 32, got 64{Environment.NewLine}", run.Error);
    }

    [Fact]
    public void Estimate_VariableInOtherCase_IsNamedAsTyped()
    {
        var sources = CliRun.NoSources with { Environment = new Dictionary<string, string> { ["MOCKSERVE__PROFILE__TENSORPARALLEL"] = "65" } };

        var run = CliRun.With(sources, "estimate");

        Assert.Equal($"error: MOCKSERVE__PROFILE__TENSORPARALLEL: must be between 1 and 64, got 65{Environment.NewLine}", run.Error);
    }

    [Fact]
    public void Estimate_BrokenGpuFile_PrefixesEachFileLineWithTheFlag()
    {
        string path = _dir.Write("gpu.yaml", """
            id: tiny
            hbmBytes: -1
            hbmBandwidth: 3e12
            peakFlops: 1e15
            hostLinkBandwidth: 64e9
            interconnectBandwidth: nope
            """);

        var run = CliRun.Of("estimate", "--gpu", path);

        Assert.Equal(
            string.Join(Environment.NewLine, [
                $"error: --gpu: {path}:6: interconnectBandwidth: expected a number, got 'nope'",
                $"error: --gpu: {path}:2: hbmBytes: must be a positive number, got -1",
                "",
            ]),
            run.Error);
    }

    [Fact]
    public void Estimate_GpuFileFromAppSettings_IsNamedByKey()
    {
        string path = Path.Combine(_dir.Path, "missing.yaml");
        string file = _dir.Write("appsettings.json", $$"""{ "MockServe": { "Profile": { "Gpu": "{{path}}" } } }""");

        var run = CliRun.With(new SettingSources(file, new Dictionary<string, string>()), "estimate");

        Assert.StartsWith($"error: MockServe:Profile:Gpu: {path}: profile file not found", run.Error);
    }

    [Fact]
    public void Serve_TwoKindsOfProblem_ListsBothWithTheirOwnNames()
    {
        var sources = CliRun.NoSources with { Environment = new Dictionary<string, string> { ["MockServe__FailureInjection__Rate"] = "lots" } };

        var run = CliRun.With(sources, "serve", "--failure-kinds", "abort", "zap");

        Assert.Equal(
            string.Join(Environment.NewLine, [
                "error: MockServe__FailureInjection__Rate: expected a number, got 'lots'",
                "error: --failure-kinds: unknown kind 'zap', expected refuse, abort, stall",
                "",
            ]),
            run.Error);
    }

    [Fact]
    public void Estimate_MalformedAppSettings_FailsNamingTheFileWithoutAStackTrace()
    {
        string file = _dir.Write("appsettings.json", """{ "MockServe": { "Profile": { "Gpu": "h200" } x }""");

        var run = CliRun.With(new SettingSources(file, new Dictionary<string, string>()), "estimate");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"error: Failed to load configuration from file '{file}'. 'x' is invalid after a value.", run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    /// <summary>
    /// Runs <paramref name="command"/> with MockServe:<paramref name="section"/>:<paramref name="property"/> set to
    /// <paramref name="value"/> by <paramref name="source"/>.
    /// </summary>
    private CliRun Run(Source source, string command, string section, string property, string flag, string value, params string[] more)
    {
        string[] args = [command, .. more];
        switch (source)
        {
            case Source.Flag:
                return CliRun.Of([.. args, flag, value]);
            case Source.Environment:
                var environment = new Dictionary<string, string> { [$"MockServe__{section}__{property}"] = value };
                return CliRun.With(new SettingSources(null, environment), args);
            default:
                string file = _dir.Write("appsettings.json", $$"""{ "MockServe": { "{{section}}": { "{{property}}": "{{value}}" } } }""");
                return CliRun.With(new SettingSources(file, new Dictionary<string, string>()), args);
        }
    }
}
