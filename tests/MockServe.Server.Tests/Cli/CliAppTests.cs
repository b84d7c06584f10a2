namespace MockServe.Server.Tests.Cli;

public sealed class CliAppTests
{
    [Fact]
    public void Run_NoCommand_PrintsDefaultEstimateAndHelpHint()
    {
        var run = CliRun.Of();

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        Assert.StartsWith("yi-34b on 1 x a100-80gb, 50,000-token context", run.Out);
        Assert.Contains("Max concurrent users", run.Out);
        Assert.EndsWith(
            "Run 'mockserve --help' for the commands and 'mockserve estimate --help' for the options." + Environment.NewLine,
            run.Out);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("profiles", "--help")]
    [InlineData("estimate", "--help")]
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
