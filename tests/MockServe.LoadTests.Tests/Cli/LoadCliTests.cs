using MockServe.LoadTests.Cli;

namespace MockServe.LoadTests.Tests.Cli;

public class LoadCliTests
{
    [Fact]
    public void Run_BadFlags_ExitTwoNamingEachFlagBeforeAnyLoad()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        int exit = LoadCli.Run(["run", "--scenario", "nope", "--duration", "soon", "--users", "0", "--slo", "ttft-p99=fast"], output, error);

        Assert.Equal(2, exit);
        string text = error.ToString();
        Assert.Contains("error: --scenario: unknown scenario 'nope', expected one of long-context-chat, mixed-context, burst, capacity-sweep", text, StringComparison.Ordinal);
        Assert.Contains("error: --duration is \"soon\": expected a duration above 0 and at most 7 days, such as 30s, 5m or 1h", text, StringComparison.Ordinal);
        Assert.Contains("error: --users is \"0\": must be 1 to 100000", text, StringComparison.Ordinal);
        Assert.Contains("error: --slo is \"ttft-p99=fast\": ", text, StringComparison.Ordinal);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void Run_Scenarios_ListsEveryBuiltInOnALine()
    {
        var output = new StringWriter();

        int exit = LoadCli.Run(["scenarios"], output, new StringWriter());

        Assert.Equal(0, exit);
        var names = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]);
        Assert.Equal(["long-context-chat", "mixed-context", "burst", "capacity-sweep", "trace-replay"], names);
    }
}
