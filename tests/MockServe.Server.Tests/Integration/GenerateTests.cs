using Grpc.Core;

using MockServe.Contracts.V1;

namespace MockServe.Server.Tests.Integration;

[Collection(TestServer.Collection)]
public class GenerateTests
{
    [Fact]
    public async Task Generate_PromptTokens_StreamsMaxTokensWithUsage()
    {
        await using var server = await TestServer.StartAsync();

        var run = await server.GenerateAsync(new GenerateRequest { PromptTokens = 1000, MaxTokens = 40, IgnoreEos = true });

        Assert.Equal(40, run.Tokens);
        Assert.Equal(40, run.Chunks[^1].Chunk.CompletionTokens);
        Assert.True(run.Chunks[^1].Chunk.Last);
        Assert.DoesNotContain(run.Chunks.SkipLast(1), c => c.Chunk.Last);
        Assert.Equal(FinishReason.Length, run.Complete.FinishReason);
        Assert.Equal(1000, run.Complete.Usage.PromptTokens);
        Assert.Equal(40, run.Complete.Usage.CompletionTokens);
        Assert.Equal(0, run.Complete.Usage.CachedTokens);
        Assert.Equal(CacheState.New, run.Complete.Timing.CacheState);
        Assert.StartsWith("ms-", run.RequestId);
        Assert.Equal(40, run.Offsets.Length);
        Assert.False(string.IsNullOrWhiteSpace(run.Text));
    }

    [Fact]
    public async Task Generate_ServerOffsets_AreTheEngineTimesForPrefillAndDecode()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();

        var run = await server.DriveAsync(server.GenerateAsync(new GenerateRequest { PromptTokens = 2000, MaxTokens = 5, IgnoreEos = true }));

        var expected = YiOnA100.TokenTimes(2000, 5);
        Assert.Equal(5, run.Offsets.Length);
        for (int k = 0; k < 5; k++)
        {
            // Offsets travel as whole nanoseconds.
            Assert.Equal(expected[k], run.Offsets[k], 1e-9);
        }

        Assert.Equal(expected[0], run.Complete.Timing.TimeToFirstToken.ToTimeSpan().TotalSeconds, 6);
    }

    [Fact]
    public async Task Generate_ClientWallTime_FollowsModelTimeAtTheTimeScale()
    {
        // Scale 0.1: a 20K prefill of 5.51 model seconds takes 0.55 s of wall time, 59 decode steps of about
        // 36 ms take about 0.21 s more. The fake-clock tests check the exact times and the scale; this one checks
        // the system clock's path end to end, with bounds that hold beside CPU burners on 2 cores (a busy machine
        // delays a token by up to about a second, never makes it early): a scale off by 10 misses them.
        await using var server = await TestServer.StartAsync(("Server:TimeScale", "0.1"));
        double ttftModel = YiOnA100.Prefill(20_000, 0);
        double lastModel = ttftModel + Enumerable.Range(0, 59).Sum(k => YiOnA100.Decode(20_000 + k));
        // Warm the connection and the server's code paths first, so the timed call measures the model alone.
        await server.GenerateAsync(new GenerateRequest { PromptTokens = 10, MaxTokens = 2, IgnoreEos = true });

        var run = await server.GenerateAsync(new GenerateRequest { PromptTokens = 20_000, MaxTokens = 60, IgnoreEos = true });

        double ttftWall = run.Chunks[0].WallSeconds;
        double lastWall = run.Chunks[^1].WallSeconds;
        Assert.True(ttftWall >= ttftModel * 0.1 && ttftWall <= (ttftModel * 0.1 * 3) + 2, $"TTFT {ttftWall} s wall for {ttftModel} model s");
        Assert.True(lastWall >= lastModel * 0.1 && lastWall <= (lastModel * 0.1 * 3) + 2, $"last token {lastWall} s wall for {lastModel} model s");
        // No chunk leaves before its last token is due. (How late chunks are depends on the machine's load: a late
        // timer delays some, and the schedule then catches up without stretching model time.)
        double earliest = run.Chunks.Min(c => c.WallSeconds - (c.Chunk.TokenOffsets[^1].ToTimeSpan().TotalSeconds * 0.1));
        Assert.True(earliest >= -0.001, $"a chunk arrived {-earliest} s early");
    }

    [Fact]
    public async Task Generate_SecondTurnOfSession_ReportsCachedTokensAndMuchShorterPrefill()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();
        var first = await server.DriveAsync(server.GenerateAsync(new GenerateRequest { SessionId = "chat", PromptTokens = 8000, MaxTokens = 20, IgnoreEos = true }));

        var second = await server.DriveAsync(server.GenerateAsync(new GenerateRequest { SessionId = "chat", PromptTokens = 8000 + 20 + 30, MaxTokens = 10, IgnoreEos = true }));

        Assert.Equal(CacheState.Hot, second.Complete.Timing.CacheState);
        // The session holds the 8000 prompt tokens and the 19 outputs fed back.
        Assert.Equal(8019, second.Complete.Usage.CachedTokens);
        Assert.Equal(8050, second.Complete.Usage.PromptTokens);
        double firstPrefill = first.Complete.Timing.Prefill.ToTimeSpan().TotalSeconds;
        double secondPrefill = second.Complete.Timing.Prefill.ToTimeSpan().TotalSeconds;
        Assert.Equal(YiOnA100.Prefill(31, 8019), secondPrefill, 6);
        Assert.True(secondPrefill < firstPrefill / 20, $"{secondPrefill} vs {firstPrefill}");
    }

    [Fact]
    public async Task Generate_TwoSessionsTooLargeToShareHbm_SecondQueuesAndTheFirstIsSwappedOut()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();
        var a = server.GenerateAsync(new GenerateRequest { SessionId = "a", PromptTokens = 50_000, MaxTokens = 50, IgnoreEos = true });
        await server.WaitForPoolAsync(p => p.RequestsRunning == 1);
        var b = server.GenerateAsync(new GenerateRequest { SessionId = "b", PromptTokens = 50_000, MaxTokens = 50, IgnoreEos = true });
        await server.WaitForPoolAsync(p => p.RequestsWaiting == 1);

        var (ra, rb) = (await server.DriveAsync(a), await server.DriveAsync(b));

        // Both arrive at model time 0. b waits for a's whole turn, then for a's session (50,000 + 49 fed-back
        // tokens, 3129 blocks of 16) to move to host over PCIe, then prefills 50K itself.
        double swapOut = Math.Ceiling(50_049 / 16.0) * 16 * YiOnA100.KvPerToken / YiOnA100.Pcie;
        double aE2e = ra.Complete.Timing.EndToEnd.ToTimeSpan().TotalSeconds;
        var bTiming = rb.Complete.Timing;
        Assert.Equal(aE2e + swapOut, bTiming.Queue.ToTimeSpan().TotalSeconds, 1e-6);
        Assert.Equal(ra.Complete.Timing.Prefill.ToTimeSpan().TotalSeconds, bTiming.Prefill.ToTimeSpan().TotalSeconds, 1e-6);
        Assert.Equal(CacheState.New, bTiming.CacheState);
        var info = await server.Client.GetServerInfoAsync(new GetServerInfoRequest());
        Assert.Equal(1, info.Pool.SessionsSwapped);
        Assert.Equal(Math.Ceiling(50_049 / 16.0) * 16 * YiOnA100.KvPerToken, info.Pool.HostKvBytesUsed);

        string metrics = await server.ScrapeAsync();
        Assert.Contains($"mockserve_kv_swap_bytes_total{{direction=\"out\"}} {Math.Ceiling(50_049 / 16.0) * 16 * YiOnA100.KvPerToken}", metrics);
        Assert.Contains("mockserve_sessions{state=\"swapped\"} 1", metrics);
    }

    [Fact]
    public async Task Generate_NewSessionAtMaxSessions_EvictsTheIdleSessionFreesItsKvAndCountsIt()
    {
        await using var server = await TestServer.StartOnFakeClockAsync(("Engine:MaxSessions", "1"));
        await server.DriveAsync(server.GenerateAsync(new GenerateRequest { SessionId = "a", PromptTokens = 8000, MaxTokens = 20, IgnoreEos = true }));

        var b = await server.DriveAsync(server.GenerateAsync(new GenerateRequest { SessionId = "b", PromptTokens = 1000, MaxTokens = 10, IgnoreEos = true }));

        Assert.Equal(CacheState.New, b.Complete.Timing.CacheState);
        var pool = (await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool;
        Assert.Equal(1, pool.SessionsTotal);
        // Only b's KV is left: 1000 prompt + 9 fed-back outputs, ceil(1009 / 16) = 64 blocks (a's 502 were freed).
        Assert.Equal(64 * 16 * YiOnA100.KvPerToken, pool.HbmKvBytesUsed);
        string metrics = await server.ScrapeAsync();
        Assert.Contains("mockserve_sessions_evicted_total{reason=\"limit\"} 1\n", metrics);
        Assert.Contains("mockserve_sessions_held 1\n", metrics);
        var close = await Assert.ThrowsAsync<RpcException>(() => server.Client.CloseSessionAsync(new CloseSessionRequest { SessionId = "a" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, close.StatusCode);
    }

    [Fact]
    public async Task Generate_ClientCancels_KvIsFreed()
    {
        await using var server = await TestServer.StartAsync();
        using var cts = new CancellationTokenSource();
        using var call = server.Client.Generate(new GenerateRequest { SessionId = "c", PromptTokens = 4000, MaxTokens = 5000, IgnoreEos = true }, cancellationToken: cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.True((await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool.HbmKvBytesUsed > 0);

        await cts.CancelAsync();

        var pool = await server.WaitForPoolAsync(p => p.HbmKvBytesUsed == 0 && p.RequestsRunning == 0);
        Assert.Equal(0, pool.HbmKvBytesUsed);
    }

    [Fact]
    public async Task Generate_Deadline_PropagatesAndFreesKv()
    {
        await using var server = await TestServer.StartAsync();
        // The channel connects first: a connection still being made when the deadline passes (a busy machine) could end
        // the call otherwise than the deadline does once the stream runs. The stream would take minutes.
        await server.Client.GetServerInfoAsync(new GetServerInfoRequest());
        var deadline = TimeProvider.System.GetUtcNow().UtcDateTime.AddMilliseconds(1000);

        var ex = await Assert.ThrowsAsync<RpcException>(() => server.Client.Generate(
            new GenerateRequest { PromptTokens = 4000, MaxTokens = 5000, IgnoreEos = true }, deadline: deadline).ResponseStream.ReadAllAsync().ToListAsync().AsTask());

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        var pool = await server.WaitForPoolAsync(p => p.HbmKvBytesUsed == 0 && p.RequestsRunning == 0);
        Assert.Equal(0, pool.RequestsRunning);
    }

    [Fact]
    public async Task Abort_RequestInFlight_EndsItsStreamAndFreesKv()
    {
        await using var server = await TestServer.StartAsync();
        using var call = server.Client.Generate(new GenerateRequest { RequestId = "victim", PromptTokens = 4000, MaxTokens = 5000, IgnoreEos = true });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        await server.Client.AbortAsync(new AbortRequest { RequestId = "victim" });

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        Assert.Equal(0, (await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool.HbmKvBytesUsed);
    }

    [Fact]
    public async Task CloseSession_AfterTurns_FreesTheSessionKv()
    {
        await using var server = await TestServer.StartAsync();
        await server.GenerateAsync(new GenerateRequest { SessionId = "s", PromptTokens = 3000, MaxTokens = 5, IgnoreEos = true });
        var before = (await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool;
        Assert.Equal(1, before.SessionsResident);
        // The idle session holds 3000 + 4 tokens: ceil(3004 / 16) = 188 blocks of 16 x 245,760 bytes, all idle.
        Assert.Equal(188 * 16 * 245_760.0, before.HbmKvBytesUsed);
        Assert.Equal(before.HbmKvBytesUsed, before.HbmKvBytesIdle);

        await server.Client.CloseSessionAsync(new CloseSessionRequest { SessionId = "s" });

        var pool = (await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool;
        Assert.Equal(0, pool.SessionsTotal);
        Assert.Equal(0, pool.HbmKvBytesUsed);
    }

    [Fact]
    public async Task Generate_WithoutIgnoreEos_StopsBetweenMinAndMaxTokens()
    {
        await using var server = await TestServer.StartAsync();

        var run = await server.GenerateAsync(new GenerateRequest { PromptTokens = 100, MaxTokens = 50, MinTokens = 10 });

        Assert.InRange(run.Tokens, 10, 50);
        Assert.Equal(run.Tokens == 50 ? FinishReason.Length : FinishReason.Stop, run.Complete.FinishReason);
        Assert.Equal(run.Chunks.Count - 1, run.Chunks.FindIndex(c => c.Chunk.Last));
    }

    [Fact]
    public async Task Generate_TextPrompt_IsCountedByTheTokenizer()
    {
        await using var server = await TestServer.StartAsync();

        // o200k_base: "hello world" is 2 tokens, repeated with spaces each repetition adds 2.
        var run = await server.GenerateAsync(new GenerateRequest { Text = string.Join(" ", Enumerable.Repeat("hello world", 100)), MaxTokens = 3, IgnoreEos = true });

        Assert.Equal(200, run.Complete.Usage.PromptTokens);
    }

    [Fact]
    public async Task Generate_TextPromptOfMegabytes_IsReceivedAndCounted()
    {
        // 6 MB of text, beyond gRPC's default 4 MB receive limit (and the default 2M-character cap, raised here):
        // 1,000,000 tokens, beyond Yi-34B's 200K context, where counting stops.
        await using var server = await TestServer.StartAsync(("Server:MaxPromptCharacters", "8000000"));
        string text = string.Join(" ", Enumerable.Repeat("hello world", 500_000));

        var ex = await Assert.ThrowsAsync<RpcException>(() => server.GenerateAsync(new GenerateRequest { Text = text, MaxTokens = 1 }));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Matches(@"^text: at least 200\d{3} tokens, must be between 1 and the model's context of 200000 tokens$", ex.Status.Detail);
    }

    [Fact]
    public async Task Generate_StopSequenceMatchedAfterTheEngineFinished_StillStop()
    {
        // One move of the fake clock makes every token due at once: the engine reaches max_tokens before the stream
        // has read the token that completes the stop sequence, so its own result says length.
        await using var server = await TestServer.StartOnFakeClockAsync(("Server:TokenText", "echo"));

        var run = await server.DriveAsync(
            server.GenerateAsync(new GenerateRequest { Text = "alpha beta gamma delta", MaxTokens = 40, IgnoreEos = true, Stop = { "gamma" } }), step: 1000);

        Assert.Equal(" alpha beta ", run.Text);
        Assert.Equal(FinishReason.Stop, run.Complete.FinishReason);
    }

    [Fact]
    public async Task Generate_StopSequence_EndsTheTurnBeforeIt()
    {
        await using var server = await TestServer.StartAsync(("Server:TokenText", "echo"));

        var run = await server.GenerateAsync(new GenerateRequest { Text = "alpha beta gamma delta", MaxTokens = 40, IgnoreEos = true, Stop = { "gamma" } });

        Assert.Equal(FinishReason.Stop, run.Complete.FinishReason);
        Assert.Equal(" alpha beta ", run.Text);
        Assert.Equal(3, run.Complete.Usage.CompletionTokens);
        Assert.Equal(run.Chunks.Count - 1, run.Chunks.FindIndex(c => c.Chunk.Last));
        Assert.Equal(0, (await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool.HbmKvBytesUsed);
    }
}
