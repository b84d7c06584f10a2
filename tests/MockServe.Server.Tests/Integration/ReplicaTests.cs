using System.Text.RegularExpressions;

using Grpc.Core;

using MockServe.Contracts.V1;

namespace MockServe.Server.Tests.Integration;

/// <summary>serve --replicas N --router NAME: one endpoint in front of N engines of the same deployment.</summary>
[Collection(TestServer.Collection)]
public sealed partial class ReplicaTests
{
    // Yi-34B KV: K and V x 60 layers x 8 KV heads x 128 head dim x 2 bytes = 245,760 B per token; 16-token blocks.
    private const double YiBlockBytes = 16 * 245_760.0;

    [Fact]
    public async Task Generate_SessionAffinity_SecondTurnLandsOnTheFirstTurnsReplicaHot()
    {
        await using var server = await StartAsync("session-affinity");

        var second = await TwoTurnsAsync(server);

        Assert.Equal(CacheState.Hot, second.Complete.Timing.CacheState);
        // The session holds the 8000 prompt tokens and the 19 outputs fed back.
        Assert.Equal(8019, second.Complete.Usage.CachedTokens);
        var info = await server.Client.GetServerInfoAsync(new GetServerInfoRequest());
        // One replica holds the session: 8050 prompt + 9 fed-back outputs = 8059 tokens, ceil(8059 / 16) = 504 blocks.
        var holder = Assert.Single(info.Replicas, r => r.Pool.SessionsTotal > 0);
        Assert.Equal(1, holder.Pool.SessionsTotal);
        Assert.Equal(504 * YiBlockBytes, holder.Pool.HbmKvBytesUsed);
    }

    [Fact]
    public async Task Generate_RoundRobin_SecondTurnMovesAndTheReplicaItLeftFreesTheSession()
    {
        await using var server = await StartAsync("round-robin");

        var second = await TwoTurnsAsync(server);

        // Turn 1 on replica 0, turn 2 on replica 1, which has never seen the session: all 8050 tokens prefilled.
        Assert.Equal(CacheState.New, second.Complete.Timing.CacheState);
        Assert.Equal(0, second.Complete.Usage.CachedTokens);
        var replicas = await WaitForReplicasAsync(server, r => r[0].Pool.SessionsTotal == 0);
        Assert.Equal(0, replicas[0].Pool.HbmKvBytesUsed);
        Assert.Equal(0, replicas[0].Pool.HostKvBytesUsed);
        Assert.Equal(1, replicas[1].Pool.SessionsTotal);
        Assert.Equal(504 * YiBlockBytes, replicas[1].Pool.HbmKvBytesUsed);
        Assert.Equal(0, replicas[2].Pool.SessionsTotal);
    }

    [Fact]
    public async Task Generate_PrefixAware_SecondTurnGoesWhereTheHistoryIsHot()
    {
        await using var server = await StartAsync("prefix-aware");

        var second = await TwoTurnsAsync(server);

        Assert.Equal(CacheState.Hot, second.Complete.Timing.CacheState);
        Assert.Equal(8019, second.Complete.Usage.CachedTokens);
    }

    [Fact]
    public async Task GetServerInfo_ThreeReplicas_ListsThemAndThePoolIsTheirSum()
    {
        await using var server = await StartAsync("round-robin");
        // Round-robin: a on replica 0, b on replica 1.
        await server.DriveAsync(server.GenerateAsync(new GenerateRequest { SessionId = "a", PromptTokens = 1600, MaxTokens = 1, IgnoreEos = true }));
        await server.DriveAsync(server.GenerateAsync(new GenerateRequest { SessionId = "b", PromptTokens = 3200, MaxTokens = 1, IgnoreEos = true }));

        var info = await server.Client.GetServerInfoAsync(new GetServerInfoRequest());

        Assert.Equal("round-robin", info.Router);
        Assert.Equal([0, 1, 2], info.Replicas.Select(r => r.Index));
        // a holds 1600 tokens = 100 blocks, b 3200 = 200 blocks (the one output token is never fed back).
        Assert.Equal(100 * YiBlockBytes, info.Replicas[0].Pool.HbmKvBytesUsed);
        Assert.Equal(200 * YiBlockBytes, info.Replicas[1].Pool.HbmKvBytesUsed);
        Assert.Equal(0, info.Replicas[2].Pool.HbmKvBytesUsed);
        Assert.Equal(300 * YiBlockBytes, info.Pool.HbmKvBytesUsed);
        Assert.Equal(2, info.Pool.SessionsTotal);
        Assert.Equal(3 * info.Replicas[0].Pool.HbmKvBytesTotal, info.Pool.HbmKvBytesTotal);
        Assert.Equal(3 * info.Replicas[0].Pool.HostKvBytesTotal, info.Pool.HostKvBytesTotal);
    }

    [Fact]
    public async Task GetServerInfo_OneReplica_ListsItWithoutARouter()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();

        var info = await server.Client.GetServerInfoAsync(new GetServerInfoRequest());

        Assert.Equal("", info.Router);
        var only = Assert.Single(info.Replicas);
        Assert.Equal(0, only.Index);
        Assert.Equal(info.Pool, only.Pool);
    }

    [Fact]
    public async Task Metrics_ThreeReplicas_EverySeriesCarriesItsReplica()
    {
        await using var server = await StartAsync("round-robin");
        // Round-robin puts the first call on replica 0.
        await server.DriveAsync(server.GenerateAsync(new GenerateRequest { PromptTokens = 1000, MaxTokens = 10, IgnoreEos = true }));

        string text = await server.ScrapeAsync();

        Assert.Contains("mockserve_generation_tokens_total{replica=\"0\"} 10\n", text);
        Assert.Contains("mockserve_generation_tokens_total{replica=\"1\"} 0\n", text);
        Assert.Contains("mockserve_generation_tokens_total{replica=\"2\"} 0\n", text);
        foreach (string replica in new[] { "0", "1", "2" })
        {
            Assert.Contains($"mockserve_time_scale{{replica=\"{replica}\"}} 1\n", text);
        }

        // Every sample of the server's own families names its replica.
        var samples = text.Split('\n').Where(l => l.StartsWith("mockserve_", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(samples);
        Assert.All(samples, l => Assert.Matches(ReplicaLabel(), l));
    }

    [Fact]
    public async Task Metrics_OneReplica_NoReplicaLabel()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();

        string text = await server.ScrapeAsync();

        Assert.Contains("mockserve_time_scale 1\n", text);
        Assert.DoesNotContain("replica=", text);
    }

    [Fact]
    public async Task Abort_RequestOnTheSecondReplica_FindsAndCancelsIt()
    {
        await using var server = await StartAsync("round-robin");
        await server.DriveAsync(server.GenerateAsync(new GenerateRequest { RequestId = "r0", PromptTokens = 1000, MaxTokens = 1 }));
        // Round-robin: r1 is on replica 1, prefilling 50K tokens, which takes model seconds the fake clock never gives it.
        var call = server.GenerateAsync(new GenerateRequest { RequestId = "r1", PromptTokens = 50_000, MaxTokens = 100, IgnoreEos = true });
        await WaitForReplicasAsync(server, r => r[1].Pool.RequestsRunning == 1);

        await server.Client.AbortAsync(new AbortRequest { RequestId = "r1" });

        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        var again = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.AbortAsync(new AbortRequest { RequestId = "r1" }));
        Assert.Equal(StatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task CloseSession_SessionOnTheThirdReplica_ClosesItThereAndThenIsNotFound()
    {
        await using var server = await StartAsync("round-robin");
        foreach (string session in new[] { "a", "b", "c" })
        {
            await server.DriveAsync(server.GenerateAsync(new GenerateRequest { SessionId = session, PromptTokens = 1600, MaxTokens = 1 }));
        }

        await server.Client.CloseSessionAsync(new CloseSessionRequest { SessionId = "c" });

        var replicas = (await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Replicas;
        Assert.Equal([1, 1, 0], replicas.Select(r => r.Pool.SessionsTotal));
        Assert.Equal(0, replicas[2].Pool.HbmKvBytesUsed);
        var again = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.CloseSessionAsync(new CloseSessionRequest { SessionId = "c" }));
        Assert.Equal(StatusCode.NotFound, again.StatusCode);
    }

    /// <summary>Two turns of one session: 8000 prompt tokens and 20 outputs, then 8050 prompt tokens (30 new) and 10 outputs; returns the second.</summary>
    private static async Task<GenerateRun> TwoTurnsAsync(TestServer server)
    {
        await server.DriveAsync(server.GenerateAsync(new GenerateRequest { SessionId = "chat", PromptTokens = 8000, MaxTokens = 20, IgnoreEos = true }));
        return await server.DriveAsync(server.GenerateAsync(new GenerateRequest { SessionId = "chat", PromptTokens = 8050, MaxTokens = 10, IgnoreEos = true }));
    }

    private static Task<TestServer> StartAsync(string router) =>
        TestServer.StartOnFakeClockAsync(("Server:Replicas", "3"), ("Server:Router", router));

    /// <summary>Polls GetServerInfo until the replicas satisfy <paramref name="done"/>, for at most 5 s: a moved session is closed without waiting.</summary>
    private static async Task<IReadOnlyList<ReplicaInfo>> WaitForReplicasAsync(TestServer server, Func<IReadOnlyList<ReplicaInfo>, bool> done)
    {
        IReadOnlyList<ReplicaInfo> replicas = [];
        for (int i = 0; i < 250; i++)
        {
            replicas = (await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Replicas;
            if (done(replicas))
            {
                return replicas;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"replica state not reached in 5 s: {string.Join("; ", replicas)}");
        return replicas;
    }

    [GeneratedRegex("^mockserve_[a-z0-9_]+\\{[^}]*replica=\"[0-2]\"")]
    private static partial Regex ReplicaLabel();
}
