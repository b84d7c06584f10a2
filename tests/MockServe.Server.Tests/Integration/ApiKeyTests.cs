using System.Net;

using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;

using MockServe.Contracts.V1;

namespace MockServe.Server.Tests.Integration;

/// <summary>API keys: who may call, and ids scoped to the client a key names.</summary>
[Collection(TestServer.Collection)]
public sealed class ApiKeyTests : IDisposable
{
    private const string AliceKey = "alice-0123456789abcdef";
    private const string BobKey = "bob-fedcba9876543210";
    private static readonly (string, string) Keys = ("Server:ApiKeys", $"alice:{AliceKey},bob:{BobKey}");

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Generate_NoKey_UnauthenticatedSayingWhatIsMissing()
    {
        await using var server = await TestServer.StartAsync(Keys);

        var ex = await Assert.ThrowsAsync<RpcException>(() => server.GenerateAsync(Short()));

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Equal("missing API key: this server requires the metadata 'authorization: Bearer <key>'", ex.Status.Detail);
    }

    [Fact]
    public async Task Generate_WrongKey_UnauthenticatedWithoutEchoingTheKey()
    {
        await using var server = await TestServer.StartWithKeyAsync("not-a-key-31415926", Keys);

        var ex = await Assert.ThrowsAsync<RpcException>(() => server.GenerateAsync(Short()));

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Equal("the API key is not valid", ex.Status.Detail);
    }

    [Fact]
    public async Task GetServerInfo_BasicCredentials_UnauthenticatedAsMalformed()
    {
        await using var server = await TestServer.StartAsync(Keys);

        var ex = await Assert.ThrowsAsync<RpcException>(() => server.Client.GetServerInfoAsync(
            new GetServerInfoRequest(), new Metadata { { "authorization", $"Basic {AliceKey}" } }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.StartsWith("malformed authorization metadata", ex.Status.Detail);
        Assert.DoesNotContain(AliceKey, ex.Status.Detail);
    }

    [Fact]
    public async Task Generate_ValidKey_Streams()
    {
        await using var server = await TestServer.StartWithKeyAsync(BobKey, Keys);

        var run = await server.GenerateAsync(Short());

        Assert.Equal(3, run.Tokens);
    }

    [Fact]
    public async Task Generate_KeyFromFileWithAndWithoutName_Streams()
    {
        string file = _dir.Write("keys.txt", "# clients\ncarol:carol-key-000000000001\n\n  plain-key-000000000002  \n");
        await using var server = await TestServer.StartAsync(("Server:ApiKeysFile", file));

        var named = await server.GenerateAsync(Short(), Bearer("carol-key-000000000001"));
        var plain = await server.GenerateAsync(Short(), Bearer("plain-key-000000000002"));

        Assert.Equal((3, 3), (named.Tokens, plain.Tokens));
    }

    [Fact]
    public async Task Start_WithKeys_WarmUpPassesTheKeyCheck()
    {
        await using var server = await TestServer.StartAsync(Keys);

        Assert.True(server.Host.IsWarm);
    }

    [Fact]
    public async Task Health_NoKeyByDefault_Serving()
    {
        await using var server = await TestServer.StartAsync(Keys);
        var health = new Health.HealthClient(server.Channel);

        var reply = await health.CheckAsync(new HealthCheckRequest { Service = "mockserve.v1.InferenceService" });

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Health_NoKeyWhenOpenEndpointsNone_Unauthenticated()
    {
        await using var server = await TestServer.StartAsync(Keys, ("Server:OpenEndpoints", "none"));
        var health = new Health.HealthClient(server.Channel);

        var ex = await Assert.ThrowsAsync<RpcException>(() => health.CheckAsync(new HealthCheckRequest()).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    [Fact]
    public async Task Reflection_NoKeyByDefault_Unauthenticated()
    {
        await using var server = await TestServer.StartAsync(Keys);

        var ex = await Assert.ThrowsAsync<RpcException>(() => ListServicesAsync(server));

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    [Fact]
    public async Task Reflection_NoKeyWhenOpen_ListsTheServices()
    {
        await using var server = await TestServer.StartAsync(Keys, ("Server:OpenEndpoints", "health,reflection"));

        var services = await ListServicesAsync(server);

        Assert.Contains("mockserve.v1.InferenceService", services);
    }

    [Fact]
    public async Task Metrics_NoKeyByDefault_401WithABearerChallenge()
    {
        await using var server = await TestServer.StartAsync(Keys);
        using var http = new HttpClient();

        using var response = await http.GetAsync(server.MetricsUri);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Metrics_BearerKey_Scrapes()
    {
        await using var server = await TestServer.StartAsync(Keys);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, server.MetricsUri);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AliceKey);

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("mockserve_requests_total", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Generate_SameRequestIdFromTwoClients_BothRun()
    {
        await using var server = await TestServer.StartAsync(Keys, ("Server:TimeScale", "0.1"));
        var (alice, bob) = (server.ClientWith(AliceKey), server.ClientWith(BobKey));
        using var aliceCall = alice.Generate(Long("job"));
        Assert.True(await aliceCall.ResponseStream.MoveNext());

        var bobRun = await server.GenerateAsync(Short("job"), Bearer(BobKey));

        // Without scoping the engine refused Bob's request: ALREADY_EXISTS, Alice's "job" being in flight.
        Assert.Equal(("job", 3L), (bobRun.RequestId, bobRun.Tokens));
        Assert.Equal("job", aliceCall.ResponseStream.Current.RequestId);
    }

    [Fact]
    public async Task Abort_AnotherClientsRequestId_NotFoundAndTheRequestRunsOn()
    {
        await using var server = await TestServer.StartAsync(Keys, ("Server:TimeScale", "0.1"));
        var (alice, bob) = (server.ClientWith(AliceKey), server.ClientWith(BobKey));
        using var aliceCall = alice.Generate(Long("job"));
        Assert.True(await aliceCall.ResponseStream.MoveNext());

        var ex = await Assert.ThrowsAsync<RpcException>(() => bob.AbortAsync(new AbortRequest { RequestId = "job" }).ResponseAsync);
        long before = aliceCall.ResponseStream.Current.Chunk.CompletionTokens;
        Assert.True(await aliceCall.ResponseStream.MoveNext());
        long after = aliceCall.ResponseStream.Current.Chunk.CompletionTokens;
        await alice.AbortAsync(new AbortRequest { RequestId = "job" });
        var aborted = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await aliceCall.ResponseStream.MoveNext())
            {
            }
        });

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal("request_id: no request 'job' is in flight", ex.Status.Detail);
        Assert.True(after > before, "Alice's request stopped when Bob aborted his own id");
        Assert.Equal(StatusCode.Cancelled, aborted.StatusCode);
    }

    [Fact]
    public async Task Generate_SameRequestIdTwiceFromOneClient_AlreadyExistsNamingTheClientsId()
    {
        await using var server = await TestServer.StartAsync(Keys, ("Server:TimeScale", "0.1"));
        var alice = server.ClientWith(AliceKey);
        using var first = alice.Generate(Long("dup"));
        Assert.True(await first.ResponseStream.MoveNext());

        var ex = await Assert.ThrowsAsync<RpcException>(() => server.GenerateAsync(Short("dup"), Bearer(AliceKey)));

        Assert.Equal(StatusCode.AlreadyExists, ex.StatusCode);
        Assert.Equal("request_id: 'dup' is already in flight", ex.Status.Detail);
    }

    [Fact]
    public async Task Generate_SameSessionIdFromAnotherClient_DoesNotReuseTheFirstClientsKv()
    {
        await using var server = await TestServer.StartAsync(Keys);
        await server.GenerateAsync(Short(session: "chat"), Bearer(AliceKey));

        var bobTurn = await server.GenerateAsync(Short(session: "chat", prompt: 200), Bearer(BobKey));
        var aliceTurn = await server.GenerateAsync(Short(session: "chat", prompt: 200), Bearer(AliceKey));

        Assert.Equal(CacheState.New, bobTurn.Complete.Timing.CacheState);
        Assert.Equal(CacheState.Hot, aliceTurn.Complete.Timing.CacheState);
    }

    [Fact]
    public async Task CloseSession_AnotherClientsSession_NotFound()
    {
        await using var server = await TestServer.StartAsync(Keys);
        await server.GenerateAsync(Short(session: "chat"), Bearer(AliceKey));
        var (alice, bob) = (server.ClientWith(AliceKey), server.ClientWith(BobKey));

        var ex = await Assert.ThrowsAsync<RpcException>(() => bob.CloseSessionAsync(new CloseSessionRequest { SessionId = "chat" }).ResponseAsync);
        await alice.CloseSessionAsync(new CloseSessionRequest { SessionId = "chat" });

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal("session_id: no session 'chat' (never seen, closed or expired)", ex.Status.Detail);
    }

    private static GenerateRequest Short(string id = "", string session = "", long prompt = 100) =>
        new() { RequestId = id, SessionId = session, PromptTokens = prompt, MaxTokens = 3, IgnoreEos = true };

    // 2000 tokens at about 35 ms of model time each, at time scale 0.1: about 7 wall seconds, far longer than the test
    // needs it in flight; disposing the call ends it.
    private static GenerateRequest Long(string id) => new() { RequestId = id, PromptTokens = 100, MaxTokens = 2000, IgnoreEos = true };

    private static Metadata Bearer(string key) => new() { { "authorization", $"Bearer {key}" } };

    private static async Task<List<string>> ListServicesAsync(TestServer server)
    {
        var reflection = new ServerReflection.ServerReflectionClient(server.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        return [.. call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name)];
    }
}
