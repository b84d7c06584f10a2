using MockServe.Core.Workload;
using MockServe.LoadTests.Config;
using MockServe.LoadTests.Simulations;
using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Tests.Config;

public class LoadConfigReaderTests
{
    private const string Yaml = """
        target: http://127.0.0.1:50051   # optional
        duration: 60s
        seed: 1
        slo: ttft-p99=5s,error-rate=1%
        scenarios:
          - name: chat
            workload: { context: uniform:45000-55000, message: fixed:300, output: fixed:200, turns: fixed:4, think-time: exponential:5s }
            load: [ { kind: ramping-constant, copies: 4, during: 10s }, { kind: keep-constant, copies: 4, during: 50s } ]
            slo: ttft-p99=8s
          - name: batch
            builtin: burst      # or start from a built-in scenario and override
            load: [ { kind: inject-poisson, rate: 0.2, during: 60s } ]
            max-in-flight: 8
            overflow: drop
        """;

    private const string Json = """
        {
          "target": "http://127.0.0.1:50051",
          "duration": "60s",
          "seed": 1,
          "slo": "ttft-p99=5s,error-rate=1%",
          "scenarios": [
            {
              "name": "chat",
              "workload": { "context": "uniform:45000-55000", "message": "fixed:300", "output": "fixed:200", "turns": "fixed:4", "think-time": "exponential:5s" },
              "load": [ { "kind": "ramping-constant", "copies": 4, "during": "10s" }, { "kind": "keep-constant", "copies": 4, "during": "50s" } ],
              "slo": "ttft-p99=8s"
            },
            { "name": "batch", "builtin": "burst", "load": [ { "kind": "inject-poisson", "rate": 0.2, "during": "60s" } ], "max-in-flight": 8, "overflow": "drop" }
          ]
        }
        """;

    private static LoadConfig Parse(string text, bool yaml, out List<string> problems)
    {
        problems = [];
        return LoadConfigReader.Parse(text, yaml, baseDirectory: null, "test", problems);
    }

    private static string OneProblem(string yaml)
    {
        Parse(yaml, yaml: true, out var problems);
        return Assert.Single(problems);
    }

    [Fact]
    public void Parse_YamlAndJsonOfOneFile_ReadToTheSameModel()
    {
        var fromYaml = Parse(Yaml, yaml: true, out var yamlProblems);
        var fromJson = Parse(Json, yaml: false, out var jsonProblems);

        Assert.Empty(yamlProblems);
        Assert.Empty(jsonProblems);
        Assert.Equal(fromYaml, fromJson);
        Assert.Equal(new Uri("http://127.0.0.1:50051"), fromYaml.Target);
        Assert.Equal(TimeSpan.FromSeconds(60), fromYaml.Duration);
        Assert.Equal("ttft-p99=5s,error-rate=1%", fromYaml.Slo!.ToString());
        var chat = fromYaml.Scenarios[0];
        Assert.Equal(("chat", "uniform:45000-55000", "exponential:5s"), (chat.Name, chat.Workload.Context, chat.Workload.ThinkTime));
        Assert.Equal(["RampingConstant(copies: 4, during: 10s)", "KeepConstant(copies: 4, during: 50s)"], chat.Load!.Select(l => l.Simulation.ToString()));
        var batch = fromYaml.Scenarios[1];
        Assert.Equal(("batch", "burst", 8, OverflowPolicy.Drop), (batch.Name, batch.Builtin, batch.MaxInFlight, batch.Overflow));
        Assert.Equal("scenarios[1]", batch.Path);
    }

    [Fact]
    public void Parse_EveryLoadKind_BuildsItsSimulationWithItsParameters()
    {
        var config = Parse("""
            scenarios:
              - name: all
                load:
                  - { kind: keep-constant, copies: 2, during: 5s }
                  - { kind: ramping-constant, copies: 3, during: 5s }
                  - { kind: inject, rate: 10, interval: 2s, during: 5s }
                  - { kind: ramping-inject, rate: 4, during: 5s }
                  - { kind: inject-random, min-rate: 1, max-rate: 3, interval: 1s, during: 5s }
                  - { kind: iterations-for-constant, copies: 2, iterations: 7 }
                  - { kind: iterations-for-inject, rate: 5, interval: 1s, iterations: 9 }
                  - { kind: pause, during: 1s }
                  - { kind: inject-poisson, rate: 0.5, during: 5s }
                  - { kind: inject-gamma, rate: 2, burstiness: 0.5, during: 5s }
            """, yaml: true, out var problems);

        Assert.Empty(problems);
        string[] kinds = ["KeepConstant", "RampingConstant", "Inject", "RampingInject", "InjectRandom", "IterationsForConstant", "IterationsForInject", "Pause", "InjectPoisson", "InjectGamma"];
        Assert.Equal(kinds, config.Scenarios[0].Load!.Select(l => l.Simulation.Name));
        Assert.Equal("Inject(rate: 10, interval: 2s, during: 5s)", config.Scenarios[0].Load![2].Simulation.ToString());
        Assert.Equal("RampingInject(rate: 4, interval: 1s, during: 5s)", config.Scenarios[0].Load![3].Simulation.ToString());
        Assert.Equal(9, config.Scenarios[0].Load![6].Simulation.Iterations);
    }

    [Theory]
    [InlineData("scenarios:\n  - { name: a, load: [ { kind: inject-poisson, rate: 0, during: 60s } ] }",
        "scenarios[0].load[0].rate is \"0\": inject-poisson's rate must be a finite number greater than 0 and at most 100000 per second")]
    [InlineData("scenarios:\n  - { name: a, load: [ { kind: keep-constant, copies: 0, during: 60s } ] }",
        "scenarios[0].load[0].copies is \"0\": keep-constant's copies must be between 1 and 100000")]
    [InlineData("scenarios:\n  - { name: a, load: [ { kind: pause, during: 8d } ] }",
        "scenarios[0].load[0].during is \"8d\": pause's during must be greater than 0 and at most 604800s")]
    [InlineData("scenarios:\n  - { name: a, load: [ { kind: inject, rate: 1, interval: 0.5ms, during: 5s } ] }",
        "scenarios[0].load[0].interval is \"0.5ms\": inject's interval must be between 1ms and 86400s")]
    [InlineData("scenarios:\n  - { name: a, load: [ { kind: inject-random, min-rate: 3, max-rate: 2, during: 5s } ] }",
        "scenarios[0].load[0].max-rate is \"2\": inject-random's max-rate must be at least minRate (3)")]
    [InlineData("scenarios:\n  - { name: a, load: [ { kind: inject-gamma, rate: 1, burstiness: 0, during: 5s } ] }",
        "scenarios[0].load[0].burstiness is \"0\": inject-gamma's burstiness must be between 0.01 and 100 (1 = Poisson)")]
    [InlineData("scenarios:\n  - { name: a, load: [ { kind: iterations-for-constant, copies: 1, iterations: 0 } ] }",
        "scenarios[0].load[0].iterations is \"0\": iterations-for-constant's iterations must be between 1 and 1000000000")]
    [InlineData("scenarios:\n  - { name: a, load: [ { kind: inject, rate: 1 } ] }",
        "scenarios[0].load[0].during is missing: inject takes rate, interval, during (interval defaults to 1s)")]
    [InlineData("scenarios:\n  - { name: a, load: [ { kind: sometimes } ] }",
        "scenarios[0].load[0].kind is \"sometimes\": expected one of keep-constant, ramping-constant, inject, ramping-inject, inject-random, iterations-for-constant, iterations-for-inject, pause, inject-poisson, inject-gamma")]
    [InlineData("scenarios:\n  - { name: a, load: [ { kind: pause, during: 1s, copies: 2 } ] }",
        "scenarios[0].load[0].copies: unknown key \"copies\"; expected one of kind, during")]
    [InlineData("scenarios:\n  - { name: a }",
        "scenarios[0].load is missing: a scenario without a builtin needs its load simulations")]
    [InlineData("scenarios:\n  - { builtin: burst }",
        "scenarios[0].name is missing: every scenario needs a name of its own")]
    [InlineData("scenarios:\n  - { name: a, builtin: burst }\n  - { name: a, builtin: burst }",
        "scenarios[1].name is \"a\": another scenario has that name; each needs its own")]
    [InlineData("scenarios:\n  - { name: a, builtin: burst, max-in-flight: 0 }",
        "scenarios[0].max-in-flight is \"0\": MaxInFlight must be at least 1 (2147483647 for no cap); got 0.")]
    [InlineData("scenarios:\n  - { name: a, builtin: burst, overflow: spill }",
        "scenarios[0].overflow is \"spill\": expected one of queue, drop")]
    [InlineData("scenarios:\n  - { name: a, builtin: burst, workload: { output: fixed:0 } }",
        "scenarios[0].workload.output is \"fixed:0\": fixed takes one whole number of tokens of at least 1, not \"0\". Allowed forms: " + LengthSpec.AllowedForms)]
    [InlineData("workload: { think-time: later }",
        "workload.think-time is \"later\": the kind is missing (KIND:DURATION). Allowed forms: " + ThinkTimeSpec.AllowedForms)]
    [InlineData("workload: { context-policy: wrap }", "workload.context-policy is \"wrap\": expected one of slide, truncate, end")]
    [InlineData("workload: { prompt-format: json }", "workload.prompt-format is \"json\": expected one of tokens, text")]
    [InlineData("workload: { ignore-eos: maybe }", "workload.ignore-eos is \"maybe\": must be true or false")]
    [InlineData("workload: { shared-prefix: 1000, context-limit: 1001 }",
        "workload.context-limit is 1001: it must be at least SharedPrefixTokens + 2 = 1002 (the prefix, one more prompt token and one output token), or unset for no limit")]
    [InlineData("workload: { trace: no-such-trace.jsonl }", "workload.trace is \"no-such-trace.jsonl\": no such file")]
    [InlineData("workload: { contxt: fixed:10 }",
        "workload.contxt: unknown key \"contxt\"; expected one of context, message, output, turns, think-time, shared-prefix, context-limit, context-policy, prompt-format, ignore-eos, trace, trace-time-scale")]
    [InlineData("duraton: 60s",
        "duraton: unknown key \"duraton\"; expected one of target, duration, seed, report-dir, slo, time-scale, scenario, users, rate, workload, max-in-flight, overflow, scenarios")]
    [InlineData("duration: 0s", "duration is \"0s\": expected a duration above 0 and at most 7 days, such as 30s, 5m or 1h")]
    [InlineData("time-scale: 0", "time-scale is \"0\": must be above 0 and at most 1000")]
    [InlineData("users: 100001", "users is \"100001\": must be 1 to 100000")]
    [InlineData("target: 127.0.0.1:50051", "target is \"127.0.0.1:50051\": expected an address such as http://127.0.0.1:50051")]
    [InlineData("scenarios: { name: a }", "scenarios is a map: expected a list")]
    public void Parse_BadValue_RefusedNamingItsKeyPathValueAndRange(string yaml, string expected)
    {
        Assert.Equal(expected, OneProblem(yaml));
    }

    [Fact]
    public void Parse_BadSlo_NamesTheKeyPath()
    {
        string problem = OneProblem("scenarios:\n  - { name: a, builtin: burst, slo: ttft-p99=soon }");

        Assert.StartsWith("scenarios[0].slo is \"ttft-p99=soon\": ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidYaml_NamesTheLine()
    {
        Parse("duration: 60s\nscenarios: [ { name: a\n", yaml: true, out var problems);

        Assert.StartsWith("test: not valid YAML at line ", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Fact]
    public void ReadFlags_BadValues_NameEachFlag()
    {
        var problems = new List<string>();

        LoadConfigReader.ReadFlags(
            [new("context", "uniform:9-3"), new("max-in-flight", "none"), new("overflow", "spill"), new("trace-time-scale", "0"), new("context-limit", "1")],
            problems);

        Assert.Equal(
            [
                "--context-limit is \"1\": must be a whole number of tokens of at least 2 (50000, 50k or 1.5M)",
                "--trace-time-scale is \"0\": must be above 0 and at most 1000000",
                "--context is \"uniform:9-3\": uniform takes MIN-MAX, whole numbers with 1 <= MIN <= MAX, not \"9-3\". Allowed forms: " + LengthSpec.AllowedForms,
                "--max-in-flight is \"none\": must be a whole number",
                "--overflow is \"spill\": expected one of queue, drop",
            ],
            problems);
    }

    [Fact]
    public void ReadFlags_WorkloadFlags_ReadIntoTheWorkload()
    {
        var problems = new List<string>();

        var flags = LoadConfigReader.ReadFlags(
            [new("context", "fixed:1000"), new("shared-prefix", "2k"), new("context-limit", "8k"), new("context-policy", "end"), new("prompt-format", "text"), new("ignore-eos", "false")],
            problems);

        Assert.Empty(problems);
        var options = flags.Workload.ApplyTo(new WorkloadOptions());
        Assert.Equal(("fixed:1000", 2000L, 8000L, ContextOverflowPolicy.End, true, false),
            (options.Context, options.SharedPrefixTokens, options.ContextLimit, options.OverflowPolicy, options.TextPrompts, options.IgnoreEos));
    }

    [Fact]
    public void Over_FlagsOverAFile_FlagsWinAndTheFileFillsTheRest()
    {
        var file = Parse("duration: 60s\nseed: 7\nworkload: { output: fixed:200, turns: fixed:4 }", yaml: true, out _);
        var flags = LoadConfigReader.ReadFlags([new("duration", "2s"), new("output", "fixed:5")], []);

        var run = flags.Over(file);

        Assert.Equal((TimeSpan.FromSeconds(2), 7), (run.Duration, run.Seed));
        Assert.Equal(("fixed:5", "fixed:4"), (run.Workload.Output, run.Workload.Turns));
    }

    [Fact]
    public void ExampleFile_ChatAndBatch_ParsesAndValidates()
    {
        string path = Path.Combine(RepositoryRoot(), "loadtests", "scenarios", "chat-and-batch.yaml");
        var problems = new List<string>();

        var config = LoadConfigReader.Read(path, problems);
        using var probe = Grpc.Net.Client.GrpcChannel.ForAddress("http://127.0.0.1:9");
        var scenarios = ConfigScenarios.Build(new LoadConfig(), config, new Contracts.V1.InferenceService.InferenceServiceClient(probe), problems);

        Assert.Empty(problems);
        Assert.Equal(["chat", "batch"], scenarios.Select(s => s.Name));
        Assert.Equal(8, scenarios[1].Driver.MaxInFlight);
        Assert.Equal(OverflowPolicy.Drop, scenarios[1].Driver.Overflow);
        // The chat scenario's own threshold comes after the run's two.
        Assert.Equal("ttft-p99=5s,error-rate=1%,ttft-p99=8s", scenarios[0].Thresholds.ToString());
        Assert.Equal(TimeSpan.FromSeconds(60), scenarios[0].LoadSimulations.Sum(l => l.Duration!.Value.TotalSeconds) is var s ? TimeSpan.FromSeconds(s) : default);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MockServe.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("MockServe.sln not found above the test's folder");
    }
}
