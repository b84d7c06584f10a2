using Grpc.Net.Client;

using MockServe.Contracts.V1;
using MockServe.LoadTests.Config;
using MockServe.LoadTests.Simulations;
using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Tests.Config;

public sealed class ConfigScenariosTests : IDisposable
{
    // Building sends nothing: no server listens here.
    private readonly GrpcChannel _probe = GrpcChannel.ForAddress("http://127.0.0.1:9");

    public void Dispose() => _probe.Dispose();

    private (IReadOnlyList<Scenarios.ScenarioProps> Scenarios, List<string> Problems) Build(string yaml, params KeyValuePair<string, string>[] flags)
    {
        var problems = new List<string>();
        var file = LoadConfigReader.Parse(yaml, yaml: true, baseDirectory: null, "test", problems);
        var scenarios = ConfigScenarios.Build(LoadConfigReader.ReadFlags(flags, problems), file, new InferenceService.InferenceServiceClient(_probe), problems);
        return (scenarios, problems);
    }

    [Fact]
    public void Build_FlagsOverAScenarioEntry_FlagsWin()
    {
        var (scenarios, problems) = Build("scenarios:\n  - { name: b, builtin: burst, max-in-flight: 8, overflow: drop }", KeyValuePair.Create("max-in-flight", "3"));

        Assert.Empty(problems);
        Assert.Equal((3, OverflowPolicy.Drop), (scenarios[0].Driver.MaxInFlight, scenarios[0].Driver.Overflow));
    }

    [Fact]
    public void EmbeddedSettings_MixedContextChosen_TheEmbeddedServerShardsOverTwoGpus()
    {
        var problems = new List<string>();
        var file = LoadConfigReader.Parse("scenarios:\n  - { name: chat, builtin: long-context-chat }\n  - { name: mix, builtin: mixed-context }", yaml: true, baseDirectory: null, "test", problems);

        var settings = ConfigScenarios.EmbeddedSettings(file);

        Assert.Empty(problems);
        Assert.Equal("2", Assert.Single(settings, p => p.Key == "Profile:TensorParallel").Value);
    }

    [Fact]
    public void EmbeddedSettings_LongContextChat_TheDefaultProfileAsItIs()
    {
        Assert.Empty(ConfigScenarios.EmbeddedSettings(new LoadConfig { Scenario = "long-context-chat" }));
    }

    [Fact]
    public void Build_BuiltinOfSeveralScenarios_PrefixesTheirNamesWithTheEntrysName()
    {
        var (scenarios, problems) = Build("scenarios:\n  - { name: mix, builtin: mixed-context }");

        Assert.Empty(problems);
        Assert.Equal(["mix-context-4k", "mix-context-32k", "mix-context-128k"], scenarios.Select(s => s.Name));
    }

    [Fact]
    public void Build_CapacitySweepInAFile_RefusedNamingTheKey()
    {
        var (_, problems) = Build("scenarios:\n  - { name: s, builtin: capacity-sweep }");

        Assert.Equal("scenarios[0].builtin: capacity-sweep runs step by step on its own (run --scenario capacity-sweep), not in a scenario file", Assert.Single(problems));
    }

    [Fact]
    public void Build_TraceReplayWithoutATrace_RefusedNamingTheKey()
    {
        var (_, problems) = Build("scenarios:\n  - { name: t, builtin: trace-replay }");

        Assert.Equal("scenarios[0].workload.trace is missing: trace-replay replays a trace file (JSONL)", Assert.Single(problems));
    }

    [Fact]
    public void Build_ContextLimitBelowABuiltinsOwnPrefix_RefusedNamingTheFlag()
    {
        // Only the merged workload shows it: the flag's limit of 1,001 against the file's prefix of 1,000 (1,000 + 2 = 1,002).
        var (_, problems) = Build("scenarios:\n  - { name: b, builtin: burst, workload: { shared-prefix: 1000 } }", KeyValuePair.Create("context-limit", "1001"));

        Assert.Equal(
            "scenarios[0].workload.context-limit is 1001: it must be at least SharedPrefixTokens + 2 = 1002 (the prefix, one more prompt token and one output token), or unset for no limit",
            Assert.Single(problems));
    }

    [Fact]
    public void Overrides_NoneGiven_IgnoreEosStaysOnInTheRequests()
    {
        var plan = WorkloadPlan.Create(WorkloadOverrides.None.ApplyTo(new WorkloadOptions()), new Random(1));
        var off = WorkloadPlan.Create(new WorkloadOverrides { IgnoreEos = false }.ApplyTo(new WorkloadOptions()), new Random(1));

        Assert.True(plan.NewConversation("s", new Random(1)).Next().ToRequest("r").IgnoreEos);
        Assert.False(off.NewConversation("s", new Random(1)).Next().ToRequest("r").IgnoreEos);
    }
}
