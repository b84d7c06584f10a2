using System.Text.Json;

using MockServe.LoadTests.Cli;
using MockServe.LoadTests.Reports;

namespace MockServe.LoadTests.Tests.Cli;

/// <summary>The workload flags, a scenario file and trace replay, run through the command line against its embedded server.</summary>
[Collection(RealServers.Name)]
public class LoadCliWorkloadTests
{
    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = LoadCli.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private static List<JsonElement> Requests(string directory) =>
        [.. File.ReadLines(Path.Combine(directory, ReportWriter.RequestsFile)).Select(l => JsonDocument.Parse(l).RootElement)];

    private static long Long(JsonElement row, string name) => row.GetProperty(name).GetInt64();

    [Fact]
    public void Run_WorkloadFlags_ReachTheRequests()
    {
        using var reports = new TempDirectory();

        var (exit, _, error) = Run(
            "run", "--scenario", "long-context-chat", "--context", "fixed:1000", "--output", "fixed:5", "--turns", "fixed:2", "--think-time", "fixed:100ms",
            "--duration", "300s", "--users", "1", "--time-scale", "0.01", "--report-dir", reports.Path);

        // 300 model seconds (3 s of wall time at 0.01; durations are model time): many two-turn conversations of about a
        // model second a turn, after a first call that may take a wall second to connect and compile (100 model seconds).
        Assert.True(exit == 0, error);
        var rows = Requests(reports.Path);
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.True(r.GetProperty("ok").GetBoolean()));
        // First turns send the 1,000-token context; second turns add its 5 output tokens and long-context-chat's own
        // 300-token message: 1,000 + 5 + 300 = 1,305. Every turn gets exactly 5 tokens (ignore_eos is on by default).
        Assert.All(rows, r => Assert.Equal(Long(r, "turn") == 0 ? 1000 : 1305, Long(r, "prompt_tokens")));
        Assert.All(rows, r => Assert.Equal(5, Long(r, "output_tokens")));
        Assert.Contains(rows, r => Long(r, "turn") == 1);
        Assert.DoesNotContain(rows, r => Long(r, "turn") > 1);
    }

    [Fact]
    public void Run_NoIgnoreEos_TheModelledEndOfSequenceShortensOutputs()
    {
        using var reports = new TempDirectory();

        var (exit, _, error) = Run(
            "run", "--scenario", "burst", "--context", "fixed:100", "--output", "fixed:200", "--no-ignore-eos", "--rate", "0.2",
            "--duration", "300s", "--time-scale", "0.01", "--report-dir", reports.Path);

        // 300 model seconds, 3 s of wall time: about 110 arrivals, most of them long after the first call's wall second
        // of connecting and compiling.
        Assert.True(exit == 0, error);
        var rows = Requests(reports.Path).Where(r => r.GetProperty("ok").GetBoolean()).ToList();
        Assert.NotEmpty(rows);
        // Without ignore_eos the server ends each output at a seeded length between min_tokens and max_tokens (200).
        Assert.All(rows, r => Assert.InRange(Long(r, "output_tokens"), 1, 200));
        Assert.Contains(rows, r => Long(r, "output_tokens") < 200);
    }

    [Fact]
    public void Run_ConfigFileAndFlags_FlagsOverrideTheFile()
    {
        using var folder = new TempDirectory();
        string config = Path.Combine(folder.Path, "run.yaml");
        File.WriteAllText(config, $"""
            duration: 30s
            time-scale: 0.01
            report-dir: {Path.Combine(folder.Path, "report")}
            scenarios:
              - name: short
                workload: {"{"} context: fixed:2000, output: fixed:200, turns: fixed:1 {"}"}
                load: [ {"{"} kind: iterations-for-constant, copies: 1, iterations: 3 {"}"} ]
              - name: batch
                builtin: burst
                workload: {"{"} context: fixed:500 {"}"}
                load: [ {"{"} kind: iterations-for-inject, rate: 10, iterations: 2 {"}"} ]
            """);

        var (exit, output, error) = Run("run", "--config", config, "--output", "fixed:5");

        Assert.True(exit == 0, error);
        Assert.StartsWith("short, batch against http://127.0.0.1:", output, StringComparison.Ordinal);
        var rows = Requests(Path.Combine(folder.Path, "report"));
        // The file's iterations: 3 of short, 2 of batch; the flag's 5 output tokens over the file's 200.
        Assert.Equal(3, rows.Count(r => r.GetProperty("scenario").GetString() == "short"));
        Assert.Equal(2, rows.Count(r => r.GetProperty("scenario").GetString() == "batch"));
        Assert.All(rows, r => Assert.Equal(r.GetProperty("scenario").GetString() == "short" ? 2000 : 500, Long(r, "prompt_tokens")));
        Assert.All(rows, r => Assert.Equal(5, Long(r, "output_tokens")));
    }

    [Fact]
    public void Run_Trace_ReplaysItsSessionsInOrder()
    {
        using var folder = new TempDirectory();
        string trace = Path.Combine(folder.Path, "trace.jsonl");
        File.WriteAllLines(trace,
        [
            """{"time": 0, "session": "s1", "prompt_tokens": 1000, "output_tokens": 4}""",
            """{"time": 1, "prompt_tokens": 300, "output_tokens": 2}""",
            """{"time": 2, "session": "s1", "prompt_tokens": 1100, "output_tokens": 3}""",
            """{"time": 3, "session": "s2", "prompt_tokens": 500, "output_tokens": 6}""",
        ]);

        // Trace scale 10: the records go at 0, 10, 20 and 30 model seconds (0.1 s of wall time apart at time scale 0.01),
        // well after each answer (under a model second).
        var (exit, _, error) = Run(
            "run", "--trace", trace, "--trace-time-scale", "10", "--time-scale", "0.01", "--duration", "1000s", "--report-dir", Path.Combine(folder.Path, "report"));

        Assert.True(exit == 0, error);
        var rows = Requests(Path.Combine(folder.Path, "report")).OrderBy(r => r.GetProperty("intended_start_ms").GetDouble()).ToList();
        Assert.Equal([1000L, 300, 1100, 500], rows.Select(r => Long(r, "prompt_tokens")));
        Assert.Equal([4L, 2, 3, 6], rows.Select(r => Long(r, "output_tokens")));
        Assert.Equal(["trace-replay-0-s1", null, "trace-replay-0-s1", "trace-replay-0-s2"], rows.Select(r => r.GetProperty("session_id").GetString()));
        Assert.Equal([0L, 0, 1, 0], rows.Select(r => Long(r, "turn")));
        // Each starts no earlier than its scaled time after the first (the replay's clock starts with the first).
        double first = rows[0].GetProperty("intended_start_ms").GetDouble();
        Assert.All(rows.Select((r, i) => (r, i)), p => Assert.True(p.r.GetProperty("actual_start_ms").GetDouble() - first >= p.i * 10_000 - 1, $"record {p.i}"));
        // s1's second turn goes only after its first answer came back.
        Assert.True(rows[2].GetProperty("actual_start_ms").GetDouble() >= rows[0].GetProperty("end_ms").GetDouble());
    }

    [Fact]
    public void Run_TraceWithAnotherScenario_RefusedBeforeAnyLoad()
    {
        using var folder = new TempDirectory();
        string trace = Path.Combine(folder.Path, "trace.jsonl");
        File.WriteAllText(trace, """{"time": 0, "prompt_tokens": 10, "output_tokens": 1}""");

        var (exit, output, error) = Run("run", "--scenario", "burst", "--trace", trace);

        Assert.Equal(2, exit);
        Assert.Equal($"error: --trace is \"{trace}\": only the trace-replay scenario replays a trace{Environment.NewLine}", error);
        Assert.Equal("", output);
    }
}
