using System.Globalization;

using MockServe.Server.Configuration;
using MockServe.Server.Tests.Cli;

namespace MockServe.Server.Tests.Configuration;

public sealed class SettingsHelpTests
{
    private static readonly string ServeHelp = CliRun.Of("serve", "--help").Out;

    public static TheoryData<string> NumericFlags =>
    [
        .. Settings.All.SelectMany(s => s.Settings)
            .Where(s => s.Kind is SettingKind.Whole or SettingKind.Tokens or SettingKind.Number && s.NullMeans is null)
            .Select(s => s.Flag),
    ];

    [Theory]
    [MemberData(nameof(NumericFlags))]
    public void ServeHelp_NumericSetting_ShowsTheDefaultOfAFreshOptionsInstance(string flag)
    {
        var section = Settings.All.Single(s => s.Settings.Any(x => x.Flag == flag));
        var setting = section.Settings.Single(s => s.Flag == flag);
        object defaults = Activator.CreateInstance(section.OptionsType)!;
        string expected = Convert.ToString(setting.PropertyInfo.GetValue(defaults), CultureInfo.InvariantCulture)!;

        Assert.EndsWith($"[default: {expected}]", HelpLine(flag));
    }

    [Theory]
    [InlineData("--port", "50051")]
    [InlineData("--max-running", "256")]
    [InlineData("--kv-layers", "1")]
    [InlineData("--model", "yi-34b")]
    // 600 s = 10 x 60 s; 30 s; 10 s.
    [InlineData("--session-ttl", "10m")]
    [InlineData("--drain", "30s")]
    [InlineData("--stall", "10s")]
    [InlineData("--tp", "the GPU profile's gpuCount")]
    [InlineData("--kv-bits", "the model's kvBytesPerElement x 8")]
    [InlineData("--no-swap", "off")]
    [InlineData("--vllm-metrics", "off")]
    [InlineData("--failure-kinds", "refuse abort stall")]
    [InlineData("--api-keys", "none")]
    [InlineData("--api-keys-file", "none")]
    [InlineData("--open-endpoints", "health")]
    [InlineData("--tls-cert", "none")]
    [InlineData("--tls-dev-cert", "off")]
    public void ServeHelp_Setting_ShowsItsDefault(string flag, string expected)
    {
        Assert.EndsWith($"[default: {expected}]", HelpLine(flag));
    }

    [Fact]
    public void EstimateHelp_ListsTheProfileSettingsOnly()
    {
        var help = CliRun.Of("estimate", "--help").Out;

        Assert.All(Settings.Profile.Settings, s => Assert.Contains(s.Flag, help));
        Assert.DoesNotContain("--max-running", help);
        Assert.DoesNotContain("--port", help);
    }

    [Fact]
    public void SimulateHelp_ListsTheProfileAndEngineSettings()
    {
        var help = CliRun.Of("simulate", "--help").Out;

        Assert.All(Settings.Profile.Settings.Concat(Settings.Engine.Settings), s => Assert.Contains(s.Flag, help));
        Assert.DoesNotContain("--port", help);
        Assert.DoesNotContain("--failure-rate", help);
    }

    private static string HelpLine(string flag) =>
        ServeHelp.Split(Environment.NewLine).Single(line => line.TrimStart().StartsWith(flag + " ", StringComparison.Ordinal)).TrimEnd();
}
