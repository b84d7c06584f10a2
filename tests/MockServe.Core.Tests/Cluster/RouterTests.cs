using MockServe.Core.Cluster;

namespace MockServe.Core.Tests.Cluster;

/// <summary>Each router's choice on replica states made by hand.</summary>
public class RouterTests
{
    private static FakeReplica[] Replicas(params (int Running, int Waiting)[] loads) =>
        [.. loads.Select(l => new FakeReplica(l.Running, l.Waiting))];

    [Fact]
    public void RoundRobin_FiveTurns_CyclesThroughTheReplicasWhateverTheyHold()
    {
        var router = new RoundRobinRouter();
        var replicas = Replicas((9, 9), (0, 0), (0, 0));
        replicas[0].Sessions["s"] = 1000;

        var chosen = Enumerable.Range(0, 5).Select(_ => router.Route("s", replicas)).ToArray();

        Assert.Equal([0, 1, 2, 0, 1], chosen);
    }

    [Fact]
    public void LeastLoaded_UnequalLoads_FewestRunningPlusWaiting()
    {
        var router = new LeastLoadedRouter();

        // Loads 7, 5 (4 running + 1 waiting), 6.
        Assert.Equal(1, router.Route("s", Replicas((7, 0), (4, 1), (2, 4))));
    }

    [Fact]
    public void LeastLoaded_Ties_RotateInsteadOfFavouringTheFirst()
    {
        var router = new LeastLoadedRouter();
        var replicas = Replicas((1, 0), (1, 0), (1, 0));

        var chosen = Enumerable.Range(0, 4).Select(_ => router.Route("s", replicas)).ToArray();

        Assert.Equal([0, 1, 2, 0], chosen);
    }

    [Fact]
    public void SessionAffinity_SameSession_SameReplicaEveryTime()
    {
        var router = new SessionAffinityRouter();
        var replicas = Replicas((0, 0), (0, 0), (0, 0), (0, 0));

        var first = Enumerable.Range(0, 100).Select(i => router.Route($"user-{i}", replicas)).ToArray();
        var again = Enumerable.Range(0, 100).Select(i => new SessionAffinityRouter().Route($"user-{i}", replicas)).ToArray();

        Assert.Equal(first, again);
        // 64 virtual nodes a replica spread 100 sessions over all four, none with more than half.
        Assert.All(Enumerable.Range(0, 4), r => Assert.InRange(first.Count(c => c == r), 10, 50));
    }

    [Fact]
    public void SessionAffinity_HomeReplicaQueueingOverTheBound_NextOnTheRingWithRoom()
    {
        var router = new SessionAffinityRouter();
        var idle = Replicas((0, 0), (0, 0), (0, 0), (0, 0));
        int home = router.Route("chat-7", idle);
        var busy = Replicas((2, 0), (2, 0), (2, 0), (2, 0));
        // Busy but admitting at once: home keeps the session however far over the bound it is.
        busy[home] = new FakeReplica(9, 0);
        Assert.Equal(home, router.Route("chat-7", busy));
        // Queueing, with 6 + 6 + 1 requests over 4 replicas: the bound is ceil(1.25 x 13 / 4) = 5; home holds 6.
        busy[home] = new FakeReplica(4, 2);

        int chosen = router.Route("chat-7", busy);

        Assert.NotEqual(home, chosen);
        // Queueing under the bound: home holds 3 of 9 + 1 requests, and the bound is ceil(1.25 x 10 / 4) = 4.
        busy[home] = new FakeReplica(2, 1);
        Assert.Equal(home, router.Route("chat-7", busy));
    }

    [Fact]
    public void PrefixAware_HistoryCachedOnTwoReplicas_LongestWithRoom()
    {
        var router = new PrefixAwareRouter();
        var replicas = Replicas((2, 0), (1, 0), (0, 0));
        replicas[0].Sessions["chat"] = 40_000;
        replicas[1].Sessions["chat"] = 10_000;

        // Replica 0 admits at once: the longest prefix wins though it is the busiest.
        Assert.Equal(0, router.Route("chat", replicas));
        // Replica 0 queueing at load 3; loads 3, 1, 0 and the turn: the bound is ceil(1.25 x 5 / 3) = 3, not under it.
        replicas[0] = new FakeReplica(2, 1) { Sessions = { ["chat"] = 40_000 } };
        Assert.Equal(1, router.Route("chat", replicas));
    }

    [Fact]
    public void PrefixAware_NothingCached_LeastLoaded()
    {
        var router = new PrefixAwareRouter();

        Assert.Equal(2, router.Route("new", Replicas((3, 0), (2, 1), (1, 0))));
    }

    [Theory]
    [InlineData("round-robin")]
    [InlineData("least-loaded")]
    [InlineData("session-affinity")]
    [InlineData("prefix-aware")]
    public void Create_EachName_TheRouterOfThatName(string name) => Assert.Equal(name, Routers.Create(name)!.Name);

    [Fact]
    public void Create_UnknownName_Null() => Assert.Null(Routers.Create("random"));

    private sealed class FakeReplica(int running, int waiting) : IReplicaView
    {
        public Dictionary<string, long> Sessions { get; } = [];

        public int Running => running;

        public int Waiting => waiting;

        public long CachedTokens(string sessionId) => Sessions.GetValueOrDefault(sessionId);
    }
}
