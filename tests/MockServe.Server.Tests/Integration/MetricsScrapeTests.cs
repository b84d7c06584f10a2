using System.Globalization;
using System.Text.RegularExpressions;

using Grpc.Core;

using MockServe.Contracts.V1;

namespace MockServe.Server.Tests.Integration;

[Collection(TestServer.Collection)]
public partial class MetricsScrapeTests
{
    private static readonly string[] Names =
    [
        "mockserve_requests_running", "mockserve_requests_waiting", "mockserve_sessions", "mockserve_sessions_held",
        "mockserve_sessions_evicted_total", "mockserve_kv_cache_bytes",
        "mockserve_kv_cache_capacity_bytes", "mockserve_max_concurrent_users", "mockserve_prefill_tokens_total",
        "mockserve_prefix_cache_hit_tokens_total", "mockserve_prefill_duration_seconds", "mockserve_time_to_first_token_seconds",
        "mockserve_generation_tokens_total", "mockserve_inter_token_latency_seconds", "mockserve_decode_batch_size",
        "mockserve_kv_swap_bytes_total", "mockserve_kv_swap_duration_seconds", "mockserve_context_switches_total",
        "mockserve_preemptions_total", "mockserve_recomputed_tokens_total", "mockserve_requests_total",
        "mockserve_e2e_request_latency_seconds", "mockserve_request_queue_seconds", "mockserve_gpu_busy_seconds_total",
        "mockserve_time_scale", "mockserve_build_info",
    ];

    [Fact]
    public async Task Metrics_AfterTraffic_NamesPresentAndValuesAgreeWithTheTraffic()
    {
        await using var server = await TestServer.StartAsync();
        long tokens = 0;
        for (int turn = 0; turn < 3; turn++)
        {
            var run = await server.GenerateAsync(new GenerateRequest { SessionId = "m", PromptTokens = 1000 + (turn * 100), MaxTokens = 10, IgnoreEos = true });
            tokens += run.Tokens;
        }

        await Assert.ThrowsAsync<RpcException>(() => server.GenerateAsync(new GenerateRequest { MaxTokens = 10 }));

        string text = await server.ScrapeAsync();
        foreach (string name in Names)
        {
            Assert.Matches(new Regex($"^{name}(_bucket|_sum|_count)?[{{ ]", RegexOptions.Multiline), text);
        }

        Assert.Equal(30, tokens);
        Assert.Equal(30, Value(text, "mockserve_generation_tokens_total"));
        // Turn 1 prefills 1000; turn 2 reuses 1009 of 1100 and prefills 91; turn 3 reuses 1109 of 1200 and prefills 91.
        Assert.Equal(1000 + 91 + 91, Value(text, "mockserve_prefill_tokens_total"));
        Assert.Equal(1009 + 1109, Value(text, "mockserve_prefix_cache_hit_tokens_total"));
        Assert.Equal(3, Value(text, "mockserve_requests_total{outcome=\"finished\"}"));
        Assert.Equal(1, Value(text, "mockserve_requests_total{outcome=\"rejected_invalid\"}"));
        Assert.Equal(3, Value(text, "mockserve_time_to_first_token_seconds_count"));
        Assert.Equal(27, Value(text, "mockserve_inter_token_latency_seconds_count"));
        Assert.Equal(1, Value(text, "mockserve_max_concurrent_users"));
        Assert.Equal(0.01, Value(text, "mockserve_time_scale"));
        Assert.Equal(1, Value(text, "mockserve_sessions{state=\"resident\"}"));
        // The session holds 1200 prompt + 9 outputs: ceil(1209 / 16) = 76 blocks of 16 x 245,760 bytes.
        Assert.Equal(76 * 16 * 245_760.0, Value(text, "mockserve_kv_cache_bytes{tier=\"hbm\"}"));
        Assert.Contains("model=\"yi-34b\"", text);
        Assert.DoesNotContain("vllm:", text);
    }

    [Fact]
    public async Task GetServerInfo_MetricsPortConfigured_ReportsThePortThatServesMetrics()
    {
        await using var server = await TestServer.StartAsync();

        var info = await server.Client.GetServerInfoAsync(new GetServerInfoRequest());

        Assert.Equal(server.MetricsPort, info.MetricsPort);
        Assert.NotEqual(server.Port, info.MetricsPort);
        // The reported port is the one a scraper can use: it answers with the exposition.
        Assert.Contains("mockserve_time_scale 0.01", await server.ScrapeAsync());
    }

    [Fact]
    public async Task Metrics_ScrapesAndServerInfoDuringAStream_ChangeNoTokenTime()
    {
        await using var server = await TestServer.StartOnFakeClockAsync(("Server:VllmMetrics", "true"));
        var call = server.GenerateAsync(new GenerateRequest { PromptTokens = 2000, MaxTokens = 20, IgnoreEos = true });
        await server.WaitForPoolAsync(p => p.RequestsRunning == 1);
        int reads = 0;

        // The clock moves 83.7 ms at a time, so the engine always wakes after a step was due, and a scrape and a
        // GetServerInfo land between every due step and the wake-up that runs it.
        var run = await server.DriveAsync(call, step: 0.0837, between: async () =>
        {
            await server.ScrapeAsync();
            await server.Client.GetServerInfoAsync(new GetServerInfoRequest());
            reads++;
        });

        var expected = YiOnA100.TokenTimes(2000, 20);
        Assert.Equal(20, run.Offsets.Length);
        for (int k = 0; k < 20; k++)
        {
            Assert.Equal(expected[k], run.Offsets[k], 1e-9);
        }

        // 20 tokens take 0.45 s + 19 x 34 ms = 1.1 model seconds: about 13 moves of the clock, each with its reads.
        Assert.InRange(reads, 12, 20);
    }

    [Fact]
    public async Task Start_WarmupRanThroughItsOwnLane_ServedEngineAndMetricsUntouched()
    {
        await using var server = await TestServer.StartAsync(("Server:VllmMetrics", "true"));

        var info = await server.Client.GetServerInfoAsync(new GetServerInfoRequest());
        string text = await server.ScrapeAsync();

        Assert.True(server.Host.IsWarm);
        Assert.True(server.Host.IsReady);
        Assert.Equal(0, info.Pool.SessionsTotal);
        Assert.Equal(0, Value(text, "mockserve_generation_tokens_total"));
        Assert.Equal(0, Value(text, "mockserve_requests_total{outcome=\"finished\"}"));
        Assert.Equal(0, Value(text, "vllm:generation_tokens_total{model_name=\"yi-34b\"}"));
    }

    [Fact]
    public async Task Start_WarmupOff_ReadyAtOnceWithoutWarmingUp()
    {
        await using var server = await TestServer.StartAsync(("Server:Warmup", "false"));

        var ready = await new Grpc.Health.V1.Health.HealthClient(server.Channel)
            .CheckAsync(new Grpc.Health.V1.HealthCheckRequest { Service = "mockserve.v1.InferenceService" });

        Assert.False(server.Host.IsWarm);
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, ready.Status);
    }

    [Fact]
    public async Task Generate_WarmupKeyAfterStart_IsServedAndCountedLikeAnyRequest()
    {
        await using var server = await TestServer.StartAsync();

        var run = await server.GenerateAsync(new GenerateRequest { PromptTokens = 100, MaxTokens = 3, IgnoreEos = true }, new Metadata { { "x-mockserve-warmup", "1" } });

        Assert.Equal(3, run.Tokens);
        Assert.Equal(3, Value(await server.ScrapeAsync(), "mockserve_generation_tokens_total"));
    }

    [Fact]
    public async Task Metrics_VllmNamesEnabled_AreExportedWithTheModelName()
    {
        await using var server = await TestServer.StartAsync(("Server:VllmMetrics", "true"));
        await server.GenerateAsync(new GenerateRequest { PromptTokens = 500, MaxTokens = 4, IgnoreEos = true });

        string text = await server.ScrapeAsync();

        foreach (string name in new[] { "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc", "vllm:time_to_first_token_seconds", "vllm:e2e_request_latency_seconds", "vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:num_preemptions_total" })
        {
            Assert.Matches(new Regex($"^{Regex.Escape(name)}(_bucket|_sum|_count)?\\{{[^}}]*model_name=\"yi-34b\"", RegexOptions.Multiline), text);
        }

        Assert.Equal(4, Value(text, "vllm:generation_tokens_total{model_name=\"yi-34b\"}"));
        Assert.Equal(500, Value(text, "vllm:prompt_tokens_total{model_name=\"yi-34b\"}"));
    }

    /// <summary>The value of one series, given its name and exact label set as the exposition prints them.</summary>
    internal static double Value(string text, string series)
    {
        var match = Regex.Match(text, $"^{Regex.Escape(series)} (\\S+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"series {series} not found");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
