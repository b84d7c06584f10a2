using MockServe.Core.Cluster;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Core.Simulation;

namespace MockServe.Core.Tests.Cluster;

/// <summary>Replicas behind a router on the virtual clock: what routing does to where turns find their history.</summary>
public class ClusterSimulationTests
{
    // Llama 3.1 8B on H100s: 16 users of 4K-token conversations fit many times over, so every miss is routing's.
    private static readonly Deployment Llama = new() { Model = Presets.FindModel("llama-3.1-8b")!, Gpu = Presets.FindGpu("h100-sxm")! };

    private static readonly WorkloadOptions Chat = new()
    {
        Users = 16,
        ContextTokens = 4_000,
        Turns = 5,
        TurnTokens = 100,
        ThinkTimeSeconds = 2,
        OutputTokens = 32,
        DurationSeconds = 120,
        Seed = 3,
    };

    private static SimulationReport Run(string router, int replicas = 4, WorkloadOptions? workload = null) =>
        new SimulationRunner([.. Enumerable.Repeat(Llama, replicas)], new EngineOptions(), workload ?? Chat, Routers.Create(router)).Run();

    [Fact]
    public void Run_SessionAffinity_LaterTurnsStayHotWhereRoundRobinMissesThem()
    {
        var affinity = Run("session-affinity");
        var roundRobin = Run("round-robin");

        // 16 users x 4 later turns a conversation: most turns are later turns.
        long affinityLater = affinity.CacheStates["hot"] + affinity.CacheStates["host"] + affinity.CacheStates["miss"];
        Assert.True(affinityLater > 100, $"{affinityLater} later turns");
        // A session leaves its replica only when that one queues over the load bound, which this light load rarely does.
        Assert.True(affinity.CacheStates["miss"] * 20 < affinityLater, $"{affinity.CacheStates["miss"]} of {affinityLater} later turns missed");
        long roundRobinLater = roundRobin.CacheStates["hot"] + roundRobin.CacheStates["host"] + roundRobin.CacheStates["miss"];
        // Four replicas in turn: a conversation's next turn lands where its last one did only by chance.
        Assert.True(roundRobin.CacheStates["miss"] > roundRobinLater / 2, $"{roundRobin.CacheStates["miss"]} of {roundRobinLater} later turns missed");
        Assert.True(roundRobin.PrefillTokens > 2 * affinity.PrefillTokens, $"prefilled {roundRobin.PrefillTokens} vs {affinity.PrefillTokens}");
        Assert.Equal("session-affinity", affinity.Router);
    }

    [Fact]
    public void Run_PrefixAware_FollowsTheCachedHistory()
    {
        var report = Run("prefix-aware");

        Assert.Equal(0, report.CacheStates["miss"]);
        Assert.True(report.CacheStates["hot"] > 100);
    }

    [Fact]
    public void Run_LeastLoaded_SpreadsTurnsOverEveryReplica()
    {
        var report = Run("least-loaded");

        Assert.Equal(4, report.Replicas.Count);
        Assert.Equal(report.RequestsCompleted, report.Replicas.Sum(r => r.RequestsCompleted));
        Assert.All(report.Replicas, r => Assert.InRange(r.RequestsCompleted, report.RequestsCompleted / 8, report.RequestsCompleted / 2));
    }

    [Fact]
    public void Run_OneReplica_NoRouterAndOneReplicaReport()
    {
        var report = new SimulationRunner(Llama, new EngineOptions(), Chat).Run();

        Assert.Null(report.Router);
        Assert.Equal(report.RequestsCompleted, Assert.Single(report.Replicas).RequestsCompleted);
    }

    [Fact]
    public void Constructor_ReplicasWithoutRouter_RefusedNamingTheFlag()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SimulationRunner([Llama, Llama], new EngineOptions(), Chat, router: null));

        Assert.StartsWith("--replicas: 2 replicas need", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ArrivalRate_ConversationsArriveAtTheRateAndLeave()
    {
        // 0.5 conversations a second for 120 s: about 60 arrive (Poisson), each of 5 turns 2 s apart.
        var report = new SimulationRunner(Llama, new EngineOptions(), Chat with { ArrivalRate = 0.5 }).Run();

        long first = report.CacheStates["new"];
        Assert.InRange(first, 40, 80);
        Assert.InRange(report.RequestsCompleted, 4 * first, 5 * first);
    }

    [Fact]
    public void Run_Warmup_LeavesOutTurnsThatArrivedBeforeIt()
    {
        var whole = new SimulationRunner(Llama, new EngineOptions(), Chat).Run();
        var warmed = new SimulationRunner(Llama, new EngineOptions(), Chat with { WarmupSeconds = 60 }).Run();

        // Same seed, same run: the warm-up only changes what is counted, about half of it here.
        Assert.Equal(whole.Steps, warmed.Steps);
        Assert.InRange(warmed.RequestsCompleted, whole.RequestsCompleted / 3, whole.RequestsCompleted * 2 / 3);
        // Rates are over the measured minute, so they stay about the same.
        Assert.InRange(warmed.DecodeTokensPerSecond, whole.DecodeTokensPerSecond * 0.8, whole.DecodeTokensPerSecond * 1.2);
    }
}
