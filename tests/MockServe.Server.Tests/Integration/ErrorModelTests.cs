using Google.Rpc;

using Grpc.Core;
using Grpc.Health.V1;

using MockServe.Contracts.V1;

namespace MockServe.Server.Tests.Integration;

[Collection(TestServer.Collection)]
public class ErrorModelTests
{
    private static async Task<RpcException> Fails(TestServer server, GenerateRequest request, Metadata? headers = null) =>
        await Assert.ThrowsAsync<RpcException>(() => server.GenerateAsync(request, headers));

    [Theory]
    [InlineData(null, 10L, "prompt: set either text or prompt_tokens")]
    [InlineData(0L, 10L, "prompt_tokens: 0 tokens, must be between 1 and the model's context of 200000")]
    [InlineData(-5L, 10L, "prompt_tokens: -5 tokens")]
    [InlineData(5_000_000L, 10L, "prompt_tokens: 5000000 tokens, must be between 1 and the model's context of 200000")]
    [InlineData(100L, 0L, "max_tokens: must be between 1 and the model's context of 200000 tokens, got 0")]
    [InlineData(100L, -1L, "max_tokens: must be between 1 and the model's context of 200000 tokens, got -1")]
    [InlineData(199_990L, 100L, "prompt_tokens + max_tokens: 199990 + 100 = 200090 exceeds the model's context of 200000 tokens")]
    [InlineData(100_000L, 100L, "need more KV than the HBM left after weights holds (60912 tokens)")]
    public async Task Generate_BadCounts_InvalidArgumentNamingFieldValueAndLimit(long? prompt, long max, string message)
    {
        await using var server = await TestServer.StartAsync();
        var request = new GenerateRequest { MaxTokens = max };
        if (prompt is { } p)
        {
            request.PromptTokens = p;
        }

        var ex = await Fails(server, request);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(message, ex.Status.Detail);
    }

    [Fact]
    public async Task Generate_MinAboveMax_InvalidArgument()
    {
        await using var server = await TestServer.StartAsync();

        var ex = await Fails(server, new GenerateRequest { PromptTokens = 10, MaxTokens = 5, MinTokens = 6 });

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("min_tokens: must be between 0 and max_tokens 5, got 6", ex.Status.Detail);
    }

    [Fact]
    public async Task Estimate_UnknownProfile_InvalidArgumentListingPresets()
    {
        await using var server = await TestServer.StartAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => server.Client.EstimateAsync(new EstimateRequest { Model = "gpt-5", ContextTokens = 1000 }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("model: unknown preset 'gpt-5'", ex.Status.Detail);
        Assert.Contains("yi-34b", ex.Status.Detail);
    }

    [Theory]
    [InlineData(0L, 0L, "context_tokens: must be between 1 and yi-34b's context of 200000 tokens, got 0")]
    [InlineData(200_001L, 0L, "context_tokens: must be between 1 and yi-34b's context of 200000 tokens, got 200001")]
    [InlineData(1000L, 200_001L, "decode_tokens: must be between 1 and yi-34b's context of 200000 tokens, got 200001")]
    public async Task Estimate_CountsBeyondTheModel_InvalidArgumentWithTheCliRule(long context, long decode, string message)
    {
        await using var server = await TestServer.StartAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => server.Client.EstimateAsync(new EstimateRequest { ContextTokens = context, DecodeTokens = decode }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal(message, ex.Status.Detail);
    }

    [Fact]
    public async Task Estimate_Default_IsTheCostModelOfTheServedDeployment()
    {
        await using var server = await TestServer.StartAsync();

        var e = await server.Client.EstimateAsync(new EstimateRequest { ContextTokens = 50_000 });

        Assert.Equal(2.0 * 60 * 8 * 128 * 2, e.KvBytesPerToken);
        Assert.Equal(1, e.MaxConcurrentUsers);
        Assert.Equal(245_760.0 * 50_000 / 32e9, e.ContextSwitchSeconds, 9);
    }

    [Fact]
    public async Task Generate_QueueFull_ResourceExhaustedWithRetryInfoAndPushback()
    {
        // One 50K user fills the A100; with room for one waiting request the third is refused. On a fake clock the
        // first stays running however slow the machine.
        await using var server = await TestServer.StartOnFakeClockAsync(("Engine:MaxWaiting", "1"), ("Server:TimeScale", "0.05"));
        using var running = server.Client.Generate(new GenerateRequest { PromptTokens = 50_000, MaxTokens = 10, IgnoreEos = true });
        using var waiting = server.Client.Generate(new GenerateRequest { PromptTokens = 50_000, MaxTokens = 10, IgnoreEos = true });
        await WaitUntil(server, p => p.RequestsWaiting == 1);

        var ex = await Fails(server, new GenerateRequest { PromptTokens = 50_000, MaxTokens = 10 });

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("waiting queue is full: 1 of 1 requests waiting", ex.Status.Detail);
        var retry = ex.GetRpcStatus()!.GetDetail<RetryInfo>();
        Assert.NotNull(retry);
        // 5 model seconds at scale 0.05 = 250 ms.
        Assert.Equal(TimeSpan.FromMilliseconds(250), retry.RetryDelay.ToTimeSpan());
        Assert.Equal("250", ex.Trailers.GetValue("grpc-retry-pushback-ms"));
    }

    [Fact]
    public async Task Generate_NewSessionAtMaxSessionsEveryOneBusy_ResourceExhaustedNamingTheLimit()
    {
        // On a fake clock the first session's turn stays in flight: the one session held is busy, none can be evicted.
        await using var server = await TestServer.StartOnFakeClockAsync(("Engine:MaxSessions", "1"), ("Server:TimeScale", "0.05"));
        using var busy = server.Client.Generate(new GenerateRequest { SessionId = "a", PromptTokens = 4000, MaxTokens = 2000, IgnoreEos = true });
        await WaitUntil(server, p => p.RequestsRunning == 1);

        var ex = await Fails(server, new GenerateRequest { SessionId = "b", PromptTokens = 100, MaxTokens = 10 });

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal(
            "session_id: 'b' is a new session and the server holds its limit of 1 sessions (MockServe:Engine:MaxSessions) and none is idle",
            ex.Status.Detail);
        // 5 model seconds at scale 0.05 = 250 ms, as for a full queue.
        Assert.Equal(TimeSpan.FromMilliseconds(250), ex.GetRpcStatus()!.GetDetail<RetryInfo>()!.RetryDelay.ToTimeSpan());
        Assert.Equal("250", ex.Trailers.GetValue("grpc-retry-pushback-ms"));
        Assert.Contains("mockserve_requests_total{outcome=\"rejected_session_limit\"} 1\n", await server.ScrapeAsync());
    }

    [Fact]
    public async Task Generate_NewSessionAtMaxSessionsRefusePolicy_ResourceExhaustedAndTheIdleSessionKept()
    {
        await using var server = await TestServer.StartOnFakeClockAsync(("Engine:MaxSessions", "1"), ("Engine:SessionLimitPolicy", "refuse"));
        await server.DriveAsync(server.GenerateAsync(new GenerateRequest { SessionId = "a", PromptTokens = 100, MaxTokens = 2, IgnoreEos = true }));

        var ex = await Fails(server, new GenerateRequest { SessionId = "b", PromptTokens = 100, MaxTokens = 10 });

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal(
            "session_id: 'b' is a new session and the server holds its limit of 1 sessions (MockServe:Engine:MaxSessions); "
            + "the policy refuse (MockServe:Engine:SessionLimitPolicy) evicts none",
            ex.Status.Detail);
        Assert.Equal(1, (await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool.SessionsTotal);
    }

    [Fact]
    public async Task Generate_SessionWithTurnInFlight_FailedPrecondition()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();
        using var first = server.Client.Generate(new GenerateRequest { SessionId = "busy", PromptTokens = 4000, MaxTokens = 2000, IgnoreEos = true });
        await WaitUntil(server, p => p.RequestsRunning == 1);

        var ex = await Fails(server, new GenerateRequest { SessionId = "busy", PromptTokens = 4100, MaxTokens = 10 });

        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Contains("session_id: 'busy' already has a turn in flight", ex.Status.Detail);
    }

    [Fact]
    public async Task Generate_RequestIdInFlight_AlreadyExists()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();
        using var first = server.Client.Generate(new GenerateRequest { RequestId = "dup", PromptTokens = 4000, MaxTokens = 2000, IgnoreEos = true });
        await WaitUntil(server, p => p.RequestsRunning == 1);

        var ex = await Fails(server, new GenerateRequest { RequestId = "dup", PromptTokens = 100, MaxTokens = 10 });

        Assert.Equal(StatusCode.AlreadyExists, ex.StatusCode);
        Assert.Contains("request_id: 'dup' is already in flight", ex.Status.Detail);
    }

    [Fact]
    public async Task SessionRpcs_UnknownIds_NotFound()
    {
        await using var server = await TestServer.StartAsync();

        var close = await Assert.ThrowsAsync<RpcException>(() => server.Client.CloseSessionAsync(new CloseSessionRequest { SessionId = "nobody" }).ResponseAsync);
        var abort = await Assert.ThrowsAsync<RpcException>(() => server.Client.AbortAsync(new AbortRequest { RequestId = "nothing" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, close.StatusCode);
        Assert.Contains("session_id: no session 'nobody'", close.Status.Detail);
        Assert.Equal(StatusCode.NotFound, abort.StatusCode);
        Assert.Contains("request_id: no request 'nothing'", abort.Status.Detail);
    }

    [Fact]
    public async Task Shutdown_StreamsInFlightFinish_NewRequestsUnavailable_ReadinessNotServing()
    {
        // On a fake clock the stream in flight cannot finish (and the drain cannot end) before the test has looked.
        var server = await TestServer.StartOnFakeClockAsync();
        var health = new Health.HealthClient(server.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "mockserve.v1.InferenceService" })).Status);
        var inFlight = server.GenerateAsync(new GenerateRequest { PromptTokens = 2000, MaxTokens = 100, IgnoreEos = true });
        await WaitUntil(server, p => p.RequestsRunning == 1);

        var stopping = server.App.StopAsync();
        await WaitFor(() => server.Host.IsDraining);
        var refused = await Fails(server, new GenerateRequest { PromptTokens = 10, MaxTokens = 1 });
        var ready = await health.CheckAsync(new HealthCheckRequest { Service = "mockserve.v1.InferenceService" });
        var live = await health.CheckAsync(new HealthCheckRequest { Service = "" });
        var run = await server.DriveAsync(inFlight);
        await stopping;
        await server.DisposeAsync();

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("shutting down", refused.Status.Detail);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, ready.Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, live.Status);
        Assert.Equal(100, run.Tokens);
        Assert.Equal(FinishReason.Length, run.Complete.FinishReason);
    }

    [Fact]
    public async Task Shutdown_StreamOutlastsTheDrain_EndsUnavailableAfterTheTokensItGot()
    {
        var server = await TestServer.StartOnFakeClockAsync(("Server:DrainSeconds", "2"));
        using var call = server.Client.Generate(new GenerateRequest { RequestId = "long", PromptTokens = 2000, MaxTokens = 50_000, IgnoreEos = true });
        long received = 0;
        var reading = Task.Run(async () =>
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync())
            {
                Volatile.Write(ref received, message.Chunk.CompletionTokens);
            }

            return received;
        });
        // Model time for the prefill and some decode steps, so that tokens reach the client before the drain begins.
        for (int i = 0; i < 100 && Volatile.Read(ref received) == 0; i++)
        {
            server.Fake.Advance(TimeSpan.FromSeconds(0.25));
            await Task.Delay(20);
        }

        var stopping = server.App.StopAsync();
        await WaitFor(() => server.Host.IsDraining);
        // The drain waits 2 s of the server's clock; 50,000 tokens take far longer, so the drain's end ends the stream.
        var ex = await Assert.ThrowsAsync<RpcException>(() => server.DriveAsync(reading));
        bool stopped = await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(10))) == stopping;
        await server.DisposeAsync();

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.True(received > 0, "no token reached the client before the drain");
        Assert.Equal($"server shutting down: its drain ended before request long finished, after {received} tokens", ex.Status.Detail);
        Assert.True(stopped, "the server did not stop within 10 s of the drain's end");
    }

    [Fact]
    public async Task FailureInjection_Refuse_UnavailableBeforeStart()
    {
        await using var server = await TestServer.StartAsync();

        var ex = await Fails(server, new GenerateRequest { PromptTokens = 100, MaxTokens = 10 }, new Metadata { { "x-mockserve-fail", "refuse" } });

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("injected failure (refuse)", ex.Status.Detail);
    }

    [Fact]
    public async Task FailureInjection_Abort_InternalAfterHalfTheTokens()
    {
        await using var server = await TestServer.StartAsync();
        var received = new List<GenerateResponse>();
        using var call = server.Client.Generate(new GenerateRequest { PromptTokens = 100, MaxTokens = 20, IgnoreEos = true }, new Metadata { { "x-mockserve-fail", "abort" } });

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var m in call.ResponseStream.ReadAllAsync())
            {
                received.Add(m);
            }
        });

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("injected failure (abort): the stream broke after 10 tokens", ex.Status.Detail);
        Assert.Equal(10, received.Sum(m => m.Chunk.TokenIds.Count));
        Assert.Equal(0, (await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool.HbmKvBytesUsed);
    }

    [Fact]
    public async Task FailureInjection_Stall_HoldsTheStreamForTheStallTime()
    {
        // A 30 model-second stall at scale 0.01 holds the stream 0.3 s; then the backlog arrives at once.
        await using var server = await TestServer.StartAsync(("FailureInjection:StallSeconds", "30"));

        var run = await server.GenerateAsync(new GenerateRequest { PromptTokens = 100, MaxTokens = 20, IgnoreEos = true }, new Metadata { { "x-mockserve-fail", "stall" } });

        Assert.Equal(20, run.Tokens);
        double worstGap = run.Chunks.Zip(run.Chunks.Skip(1), (a, b) => b.WallSeconds - a.WallSeconds).Max();
        Assert.True(worstGap >= 0.29, $"worst gap {worstGap} s");
    }

    [Fact]
    public async Task FailureInjection_UnknownKind_InvalidArgumentNamingTheKey()
    {
        await using var server = await TestServer.StartAsync();

        var ex = await Fails(server, new GenerateRequest { PromptTokens = 100, MaxTokens = 10 }, new Metadata { { "x-mockserve-fail", "explode" } });

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("x-mockserve-fail: unknown failure kind 'explode'", ex.Status.Detail);
    }

    private static Task WaitUntil(TestServer server, Func<PoolState, bool> done) => server.WaitForPoolAsync(done);

    private static async Task WaitFor(Func<bool> done)
    {
        for (int i = 0; i < 250 && !done(); i++)
        {
            await Task.Delay(20);
        }

        Assert.True(done(), "condition not reached in 5 s");
    }
}
