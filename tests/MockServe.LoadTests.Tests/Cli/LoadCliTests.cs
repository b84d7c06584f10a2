using MockServe.LoadTests.Cli;
using MockServe.LoadTests.Targets;

namespace MockServe.LoadTests.Tests.Cli;

public class LoadCliTests
{
    [Fact]
    public void Run_TargetThatRefusesEveryCall_UsersBackOffInsteadOfSpinning()
    {
        // Nothing listens on port 9: every turn fails at once. Each user pauses 1 s, then 2 s before its retries, so in
        // 3 s two users make at most 3 calls each, where they once made tens of thousands.
        using var folder = new TempDirectory();
        var output = new StringWriter();

        int exit = LoadCli.Run(
            ["run", "--scenario", "long-context-chat", "--target", "http://127.0.0.1:9", "--target-metrics", "none", "--users", "2",
             "--duration", "3s", "--think-time", "none", "--metrics-port", "0", "--progress", "none", "--report-dir", folder.Path],
            output, new StringWriter());

        Assert.Equal(0, exit);
        var lines = File.ReadAllLines(Path.Combine(folder.Path, "requests.jsonl"));
        Assert.InRange(lines.Length, 2, 6);
        Assert.All(lines, l => Assert.Contains("\"status\":\"UNAVAILABLE\"", l, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(7, 60)]
    [InlineData(100, 60)]
    public void RetryPause_FailuresInARow_OneSecondDoublingToAMinute(int failures, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), MockServe.LoadTests.Llm.ChatUsers.RetryPause(failures));
    }

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
    public void Run_TargetNotAnAddress_ExitTwoNamingTarget()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        int exit = LoadCli.Run(["run", "--scenario", "burst", "--target", "127.0.0.1:50051"], output, error);

        Assert.Equal(2, exit);
        Assert.Contains("error: --target is \"127.0.0.1:50051\": expected an address such as http://127.0.0.1:50051", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public async Task Run_TargetAddress_DrivesThatServer()
    {
        // System.CommandLine 2.0.0 threw on every --target value before it was parsed by hand.
        await using var server = await EmbeddedServer.StartAsync(new Dictionary<string, string?> { ["Server:TimeScale"] = "0.001" });
        var output = new StringWriter();
        var error = new StringWriter();

        int exit = await Task.Run(() => LoadCli.Run(
            ["run", "--scenario", "burst", "--target", server.Address.ToString(), "--duration", "1s", "--rate", "4"], output, error));

        Assert.Equal("", error.ToString());
        Assert.Equal(0, exit);
        Assert.StartsWith($"burst against {server.Address} for 1 s", output.ToString(), StringComparison.Ordinal);
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
