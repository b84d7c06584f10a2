namespace MockServe.Server.Tests.Cli;

public sealed class CliAppTests
{
    [Fact]
    public void Run_RootHelp_ListsTheCommandsAndTheServeOptions()
    {
        var run = CliRun.Of("--help");

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        foreach (string expected in new[] { "serve", "profiles", "estimate", "simulate", "--port", "--metrics-port", "--time-scale" })
        {
            Assert.Contains(expected, run.Out);
        }
    }

    [Theory]
    [InlineData("--time-scale", "-1", "error: --time-scale: must be more than 0 and at most 1000, got -1")]
    [InlineData("--port", "70000", "error: --port: must be 0 to 65535, got 70000")]
    [InlineData("--model", "gpt-5", "error: --model: unknown model 'gpt-5': not a preset id (yi-34b, ")]
    [InlineData("--scheduler", "fifo", "error: --scheduler: unknown policy 'fifo', expected one of chunked-prefill, prefill-first")]
    [InlineData("--replicas", "0", "error: --replicas: must be 1 to 64, got 0")]
    [InlineData("--replicas", "65", "error: --replicas: must be 1 to 64, got 65")]
    [InlineData("--router", "random", "error: --router: unknown router 'random', expected one of round-robin, least-loaded, session-affinity, prefix-aware")]
    [InlineData("--drain", "soon", "error: --drain: expected a duration such as 250ms, 5s, 2m or 1h, got 'soon'")]
    public void Serve_BadSetting_FailsNamingTheFlagWithoutServing(string option, string value, string expected)
    {
        var run = CliRun.Of("serve", option, value);

        Assert.Equal((1, ""), (run.ExitCode, run.Out));
        Assert.StartsWith(expected, run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public void Serve_BadSettingsInThreeSections_ReportsEachOnItsOwnLine()
    {
        var run = CliRun.Of("serve", "--time-scale", "0", "--kv-heads", "2", "--max-running", "0");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            string.Join(Environment.NewLine, [
                "error: --time-scale: must be more than 0 and at most 1000, got 0",
                "error: --kv-heads: must be in (0, 1], got 2",
                "error: --max-running: must be between 1 and 65536, got 0",
                "",
            ]),
            run.Error);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("profiles", "--help")]
    [InlineData("estimate", "--help")]
    [InlineData("simulate", "--help")]
    [InlineData("serve", "--help")]
    public void Run_Help_PrintsUsageAndSucceeds(params string[] args)
    {
        var run = CliRun.Of(args);

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        Assert.Contains("Usage:", run.Out);
    }

    [Fact]
    public void Run_EstimateHelp_ListsTheDeploymentOptions()
    {
        var run = CliRun.Of("estimate", "--help");

        Assert.All(
            ["--model", "--gpu", "--tp", "--kv-layers", "--kv-heads", "--kv-tokens", "--kv-bits", "--prefill-util", "--decode-util",
                "--context", "--decode-tokens", "--format"],
            option => Assert.Contains(option, run.Out));
    }

    [Fact]
    public void Run_UnknownCommand_FailsOnStderrOnly()
    {
        var run = CliRun.Of("estimat");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal("", run.Out);
        Assert.Contains("'estimat'", run.Error);
        Assert.Contains("Run 'mockserve --help' for usage.", run.Error);
    }

    [Fact]
    public void Run_UnknownOption_FailsPointingAtTheCommandsHelp()
    {
        var run = CliRun.Of("estimate", "--contxt", "5");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal("", run.Out);
        Assert.Contains("--contxt", run.Error);
        Assert.Contains("Run 'mockserve estimate --help' for usage.", run.Error);
    }

    [Fact]
    public void Run_BadFormat_Fails()
    {
        var run = CliRun.Of("profiles", "--format", "xml");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("xml", run.Error);
    }
}
