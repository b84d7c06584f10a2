using System.Globalization;
using System.Text;

using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Metrics;

using Prometheus;

namespace MockServe.Server.Tests.Metrics;

public sealed class ServerMetricsTests
{
    // Yi-34B KV: K and V x 60 layers x 8 KV heads x 128 head dim x 2 bytes = 245,760 B per token; 16-token blocks.
    private const double YiBlockBytes = 16 * 2.0 * 60 * 8 * 128 * 2;
    private const double A100Pcie = 32e9;

    [Fact]
    public async Task OnEvent_ChunkedPrompt_PrefillAndGenerationTokensMatchTheRequest()
    {
        var rig = new Rig();
        rig.Submit("a", prompt: 5000, maxTokens: 4);
        rig.Run();

        var m = await rig.Scrape();

        // 5000 prompt tokens in chunks of 2048 + 2048 + 904; the last chunk's step yields token 1, then 3 decodes.
        Assert.Equal(5000, m["mockserve_prefill_tokens_total"]);
        Assert.Equal(4, m["mockserve_generation_tokens_total"]);
        Assert.Equal(1, m["mockserve_time_to_first_token_seconds_count"]);
        Assert.Equal(3, m["mockserve_inter_token_latency_seconds_count"]);
        Assert.Equal(3, m["mockserve_decode_batch_size_count"]);
        Assert.Equal(3, m["mockserve_decode_batch_size_sum"]);
        Assert.Equal(1, m["mockserve_requests_total{outcome=\"finished\"}"]);
        Assert.Equal(0, m["mockserve_requests_total{outcome=\"cancelled\"}"]);
    }

    [Fact]
    public async Task OnEvent_IdleServer_LatencyAndBusyTimeAddUpToEndToEnd()
    {
        var rig = new Rig();
        rig.Submit("a", prompt: 5000, maxTokens: 4);
        rig.Run();

        var m = await rig.Scrape();

        // Arrival at 0, steps back to back: E2E = TTFT + the three gaps = GPU busy time; nothing queued.
        double e2e = m["mockserve_e2e_request_latency_seconds_sum"];
        Assert.True(e2e > 0);
        Near(e2e, m["mockserve_time_to_first_token_seconds_sum"] + m["mockserve_inter_token_latency_seconds_sum"]);
        Near(e2e, m["mockserve_gpu_busy_seconds_total{phase=\"prefill\"}"] + m["mockserve_gpu_busy_seconds_total{phase=\"decode\"}"]);
        Near(m["mockserve_time_to_first_token_seconds_sum"], m["mockserve_prefill_duration_seconds_sum"]);
        Assert.Equal(0, m["mockserve_request_queue_seconds_sum"]);
        Assert.Equal(1, m["mockserve_request_queue_seconds_bucket{le=\"0.001\"}"]);
    }

    [Fact]
    public async Task OnEvent_HotSecondTurn_AddsTheHistoryAsCachedTokens()
    {
        var rig = new Rig();
        rig.Submit("t1", prompt: 1000, maxTokens: 10, session: "s");
        rig.Run();
        rig.Submit("t2", prompt: 1000 + 10 + 50, maxTokens: 5, session: "s");
        rig.Run();

        var m = await rig.Scrape();

        // The session holds the prompt and the 9 outputs fed back: 1009 tokens; t2 prefills 1060 - 1009 = 51.
        Assert.Equal(1009, m["mockserve_prefix_cache_hit_tokens_total"]);
        Assert.Equal(1000 + 51, m["mockserve_prefill_tokens_total"]);
        Assert.Equal(10 + 5, m["mockserve_generation_tokens_total"]);
        Assert.Equal(1, m["mockserve_cache_state_total{state=\"new\"}"]);
        Assert.Equal(1, m["mockserve_cache_state_total{state=\"hot\"}"]);
        Assert.Equal(0, m["mockserve_cache_state_total{state=\"host\"}"]);
        Assert.Equal(0, m["mockserve_cache_state_total{state=\"miss\"}"]);
    }

    [Fact]
    public async Task OnEvent_SessionSwappedOutAndBack_CountsTheBlocksMovedEachWay()
    {
        // HBM holds 3807 blocks for KV: one 50K session (50,099 tokens = 3132 blocks) at a time.
        var rig = new Rig();
        rig.Submit("a1", prompt: 50_000, maxTokens: 100, session: "A");
        rig.Run();
        rig.Submit("b1", prompt: 50_000, maxTokens: 100, session: "B");
        rig.Run();
        rig.Submit("a2", prompt: 50_110, maxTokens: 10, session: "A");
        rig.Run();

        var m = await rig.Scrape();

        // Out: A's 3132 blocks for b1, then B's 3132 for a2. In: A's 3132 blocks for a2.
        double session = 3132 * YiBlockBytes;
        Near(2 * session, m["mockserve_kv_swap_bytes_total{direction=\"out\"}"]);
        Near(session, m["mockserve_kv_swap_bytes_total{direction=\"in\"}"]);
        Assert.Equal(3, m["mockserve_context_switches_total"]);
        Assert.Equal(3, m["mockserve_kv_swap_duration_seconds_count"]);
        Near(3 * session / A100Pcie, m["mockserve_kv_swap_duration_seconds_sum"]);
        Near(3 * session / A100Pcie, m["mockserve_gpu_busy_seconds_total{phase=\"swap\"}"]);
        Assert.Equal(50_099, m["mockserve_prefix_cache_hit_tokens_total"]);
        Assert.Equal(1, m["mockserve_cache_state_total{state=\"host\"}"]);
    }

    [Fact]
    public async Task OnEvent_CancelledWhileWaiting_CountsCancelledWithoutCacheStateOrLatency()
    {
        var rig = new Rig();
        rig.Submit("a", prompt: 50_000, maxTokens: 10);
        // b cannot fit beside a's 3125 blocks: it waits, and is cancelled there.
        rig.Submit("b", prompt: 50_000, maxTokens: 10);
        Assert.True(rig.Engine.Cancel("b"));
        rig.Run();

        var m = await rig.Scrape();

        Assert.Equal(1, m["mockserve_requests_total{outcome=\"finished\"}"]);
        Assert.Equal(1, m["mockserve_requests_total{outcome=\"cancelled\"}"]);
        Assert.Equal(1, m["mockserve_cache_state_total{state=\"new\"}"]);
        Assert.Equal(1, m["mockserve_e2e_request_latency_seconds_count"]);
        Assert.Equal(1, m["mockserve_time_to_first_token_seconds_count"]);
        Assert.Equal(50_000, m["mockserve_prefill_tokens_total"]);
    }

    [Fact]
    public async Task OnEvent_InterleavedRequests_ObservesEachTokensGap()
    {
        var rig = new Rig(withEngine: false);
        var a = Request("a");
        var b = Request("b");
        // a arrives at 0, b at 0.5; a token's gap runs from the request's previous token, the first's from arrival.
        rig.Metrics.OnEvent(new EngineEvent(1.0, EngineEventKind.Token, a, null, 1, Gap: 1.0));
        rig.Metrics.OnEvent(new EngineEvent(1.0625, EngineEventKind.Token, a, null, 2, Gap: 0.0625));
        rig.Metrics.OnEvent(new EngineEvent(1.125, EngineEventKind.Token, a, null, 3, Gap: 0.0625));
        rig.Metrics.OnEvent(new EngineEvent(1.25, EngineEventKind.Token, b, null, 1, Gap: 0.75));
        rig.Metrics.OnEvent(new EngineEvent(1.75, EngineEventKind.Token, b, null, 2, Gap: 0.5));

        var m = await rig.Scrape();

        // TTFT: a 1.0 - 0 = 1.0, b 1.25 - 0.5 = 0.75. Gaps: a 0.0625 and 0.0625, b 0.5.
        Assert.Equal(2, m["mockserve_time_to_first_token_seconds_count"]);
        Assert.Equal(1.75, m["mockserve_time_to_first_token_seconds_sum"]);
        Assert.Equal(3, m["mockserve_inter_token_latency_seconds_count"]);
        Assert.Equal(0.625, m["mockserve_inter_token_latency_seconds_sum"]);
        Assert.Equal(2, m["mockserve_inter_token_latency_seconds_bucket{le=\"0.075\"}"]);
        Assert.Equal(2, m["mockserve_inter_token_latency_seconds_bucket{le=\"0.25\"}"]);
        Assert.Equal(3, m["mockserve_inter_token_latency_seconds_bucket{le=\"0.5\"}"]);
        Assert.Equal(5, m["mockserve_generation_tokens_total"]);
    }

    [Fact]
    public async Task OnEvent_Preemptions_CountedByModeWithRecomputedTokens()
    {
        var rig = new Rig(withEngine: false, vllm: true);
        var a = Request("a");
        rig.Metrics.OnEvent(new EngineEvent(1, EngineEventKind.Preempted, a, null, 100, Detail: PreemptionPolicies.Swap));
        rig.Metrics.OnEvent(new EngineEvent(2, EngineEventKind.Preempted, a, null, 200, Detail: PreemptionPolicies.Recompute));
        rig.Metrics.OnEvent(new EngineEvent(3, EngineEventKind.Preempted, a, null, 300, Detail: PreemptionPolicies.Recompute));
        var result = new RequestResult { Request = a, FinishReason = FinishReason.Length, RecomputedTokens = 500, FinishTime = 4 };
        rig.Metrics.OnEvent(new EngineEvent(4, EngineEventKind.Finished, a, null, Result: result));

        var m = await rig.Scrape(vllmNames: true);

        Assert.Equal(1, m["mockserve_preemptions_total{mode=\"swap\"}"]);
        Assert.Equal(2, m["mockserve_preemptions_total{mode=\"recompute\"}"]);
        Assert.Equal(3, m["vllm:num_preemptions_total{model_name=\"yi-34b\"}"]);
        Assert.Equal(500, m["mockserve_recomputed_tokens_total"]);
    }

    [Fact]
    public async Task OnStep_MixedStep_SplitsComputeByTokenShare()
    {
        var rig = new Rig(withEngine: false);
        rig.Metrics.OnStep(new StepSummary(0, 1.5, DecodeSequences: 3, PrefillTokens: 1, SwapSeconds: 0.5, ComputeSeconds: 1.0, Running: 4, Waiting: 0));
        rig.Metrics.OnStep(new StepSummary(1.5, 3.5, DecodeSequences: 0, PrefillTokens: 2048, SwapSeconds: 0, ComputeSeconds: 2.0, Running: 1, Waiting: 0));

        var m = await rig.Scrape();

        // Step 1: 1 prefill token and 3 decode tokens share 1.0 s as 0.25 and 0.75; step 2 is all prefill.
        Assert.Equal(0.25 + 2.0, m["mockserve_gpu_busy_seconds_total{phase=\"prefill\"}"]);
        Assert.Equal(0.75, m["mockserve_gpu_busy_seconds_total{phase=\"decode\"}"]);
        Assert.Equal(0.5, m["mockserve_gpu_busy_seconds_total{phase=\"swap\"}"]);
        Assert.Equal(1, m["mockserve_decode_batch_size_count"]);
        Assert.Equal(0, m["mockserve_decode_batch_size_bucket{le=\"2\"}"]);
        Assert.Equal(1, m["mockserve_decode_batch_size_bucket{le=\"4\"}"]);
    }

    [Fact]
    public async Task OnEvent_NewSessionsBeyondMaxSessions_EachEvictionCountedUnderReasonLimit()
    {
        var rig = new Rig(options: new EngineOptions { MaxSessions = 2 });
        foreach (string session in new[] { "a", "b", "c", "d", "e" })
        {
            rig.Submit(session, prompt: 100, maxTokens: 2, session: session);
            rig.Run();
        }

        rig.Metrics.UpdatePool(rig.Engine.Snapshot());
        var m = await rig.Scrape();

        // Five sessions through room for two: a, b and c were evicted; d and e are held.
        Assert.Equal(3, m["mockserve_sessions_evicted_total{reason=\"limit\"}"]);
        Assert.Equal(2, m["mockserve_sessions_held"]);
    }

    [Fact]
    public async Task Constructor_NoTraffic_SessionEvictionsExportedAtZero()
    {
        var rig = new Rig(withEngine: false);

        var m = await rig.Scrape();

        Assert.Equal(0, m["mockserve_sessions_evicted_total{reason=\"limit\"}"]);
    }

    [Fact]
    public async Task UpdatePool_Snapshot_SetsTheGauges()
    {
        var rig = new Rig(withEngine: false, vllm: true);
        rig.Metrics.UpdatePool(new PoolSnapshot(
            Time: 1, BlockSize: 16, BlockBytes: 1000, HbmBlocksTotal: 100, HbmBlocksUsed: 25, HbmBlocksIdle: 10, HostBlocksTotal: 400,
            HostBlocksUsed: 40, SessionsResident: 3, SessionsSwapped: 2, SessionsTotal: 5, Running: 4, Waiting: 7,
            SwappedRequests: 1));

        var m = await rig.Scrape(vllmNames: true);

        Assert.Equal(4, m["mockserve_requests_running"]);
        Assert.Equal(7, m["mockserve_requests_waiting"]);
        Assert.Equal(1, m["mockserve_requests_swapped"]);
        Assert.Equal(3, m["mockserve_sessions{state=\"resident\"}"]);
        Assert.Equal(2, m["mockserve_sessions{state=\"swapped\"}"]);
        Assert.Equal(5, m["mockserve_sessions_held"]);
        Assert.Equal(25 * 1000, m["mockserve_kv_cache_bytes{tier=\"hbm\"}"]);
        Assert.Equal(40 * 1000, m["mockserve_kv_cache_bytes{tier=\"host\"}"]);
        Assert.Equal(100 * 1000, m["mockserve_kv_cache_capacity_bytes{tier=\"hbm\"}"]);
        Assert.Equal(400 * 1000, m["mockserve_kv_cache_capacity_bytes{tier=\"host\"}"]);
        Assert.Equal(4, m["vllm:num_requests_running{model_name=\"yi-34b\"}"]);
        Assert.Equal(7, m["vllm:num_requests_waiting{model_name=\"yi-34b\"}"]);
        Assert.Equal(1, m["vllm:num_requests_swapped{model_name=\"yi-34b\"}"]);
        // 25 blocks used, 10 of them by idle sessions, which vLLM would count as free cached blocks.
        Assert.Equal(15.0 / 100, m["vllm:kv_cache_usage_perc{model_name=\"yi-34b\"}"]);
        Assert.Equal(15.0 / 100, m["vllm:gpu_cache_usage_perc{model_name=\"yi-34b\"}"]);
    }

    [Fact]
    public async Task CountRequest_ServerOutcomes_CountedUnderTheirLabel()
    {
        var rig = new Rig(withEngine: false);
        rig.Metrics.CountRequest(RequestOutcomes.RejectedQueueFull);
        rig.Metrics.CountRequest(RequestOutcomes.RejectedQueueFull);
        rig.Metrics.CountRequest(RequestOutcomes.FailedInjected);

        var m = await rig.Scrape();

        Assert.Equal(2, m["mockserve_requests_total{outcome=\"rejected_queue_full\"}"]);
        Assert.Equal(1, m["mockserve_requests_total{outcome=\"failed_injected\"}"]);
        Assert.Equal(0, m["mockserve_requests_total{outcome=\"rejected_invalid\"}"]);
    }

    [Fact]
    public async Task Constructor_NoTraffic_EveryOutcomeIsExportedAtZero()
    {
        var rig = new Rig(withEngine: false);

        var m = await rig.Scrape();

        string[] expected =
            ["finished", "cancelled", "rejected_queue_full", "rejected_session_limit", "rejected_invalid", "rejected_unavailable", "failed_injected"];
        foreach (string outcome in expected)
        {
            Assert.Equal(0, m[$"mockserve_requests_total{{outcome=\"{outcome}\"}}"]);
        }

        Assert.Equal(expected.Length, m.Keys.Count(k => k.StartsWith("mockserve_requests_total{", StringComparison.Ordinal)));
    }

    [Fact]
    public void CountRequest_UnknownOutcome_Throws()
    {
        var rig = new Rig(withEngine: false);

        var e = Assert.Throws<ArgumentException>(() => rig.Metrics.CountRequest("exploded"));

        Assert.Contains("'exploded'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ObserveStreamLag_ModelSeconds_LandsInItsBucket()
    {
        var rig = new Rig(withEngine: false);
        rig.Metrics.ObserveStreamLag(0.003);

        var m = await rig.Scrape();

        Assert.Equal(0, m["mockserve_stream_lag_seconds_bucket{le=\"0.0025\"}"]);
        Assert.Equal(1, m["mockserve_stream_lag_seconds_bucket{le=\"0.005\"}"]);
        Assert.Equal(0.003, m["mockserve_stream_lag_seconds_sum"]);
    }

    [Fact]
    public async Task Constructor_Info_PublishesBuildInfoScaleAndCapacity()
    {
        var rig = new Rig(withEngine: false);

        var m = await rig.Scrape();

        Assert.Equal(1, m["mockserve_build_info{version=\"1.2.3\",model=\"yi-34b\",gpu=\"a100-80gb\",tp=\"2\",scheduler=\"chunked-prefill\"}"]);
        Assert.Equal(0.01, m["mockserve_time_scale"]);
        Assert.Equal(3, m["mockserve_max_concurrent_users"]);
    }

    [Fact]
    public async Task Constructor_VllmNamesOff_ExportsNoVllmMetric()
    {
        var rig = new Rig(vllm: false);
        rig.Submit("a", prompt: 2000, maxTokens: 5);
        rig.Run();

        string text = await rig.ScrapeText(vllmNames: true);

        Assert.Contains("mockserve_generation_tokens_total 5", text, StringComparison.Ordinal);
        Assert.DoesNotContain("vllm", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Constructor_VllmNamesOn_ExportsVllmNamesWithTheModelLabel()
    {
        var rig = new Rig(vllm: true);
        rig.Submit("a", prompt: 2000, maxTokens: 5);
        rig.Engine.Submit(new InferenceRequest { RequestId = "b", PromptTokens = 1000, MaxTokens = 5, StopAfterTokens = 2 });
        rig.Run();

        var m = await rig.Scrape(vllmNames: true);
        string text = await rig.ScrapeText(vllmNames: true);

        const string Model = "{model_name=\"yi-34b\"}";
        Assert.Equal(2000 + 1000, m["vllm:prompt_tokens_total" + Model]);
        Assert.Equal(5 + 2, m["vllm:generation_tokens_total" + Model]);
        Assert.Equal(1, m["vllm:request_success_total{finished_reason=\"length\",model_name=\"yi-34b\"}"]);
        Assert.Equal(1, m["vllm:request_success_total{finished_reason=\"stop\",model_name=\"yi-34b\"}"]);
        Assert.Equal(0, m["vllm:request_success_total{finished_reason=\"abort\",model_name=\"yi-34b\"}"]);
        // Gaps: a has 4, b has 1; both histograms see the same gaps.
        Assert.Equal(4 + 1, m["vllm:inter_token_latency_seconds_count" + Model]);
        Assert.Equal(4 + 1, m["vllm:time_per_output_token_seconds_count" + Model]);
        Assert.Equal(2, m["vllm:time_to_first_token_seconds_count" + Model]);
        Assert.Equal(2, m["vllm:e2e_request_latency_seconds_count" + Model]);
        Assert.Equal(2, m["vllm:request_queue_time_seconds_count" + Model]);
        Assert.Equal(2, m["vllm:request_prefill_time_seconds_count" + Model]);
        Assert.Equal(2, m["vllm:request_decode_time_seconds_count" + Model]);
        Assert.Equal(2000 + 1000, m["vllm:prefix_cache_queries_total" + Model]);
        Assert.Equal(0, m["vllm:prefix_cache_hits_total" + Model]);
        Assert.Contains("# TYPE vllm:num_requests_running gauge", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE vllm:kv_cache_usage_perc gauge", text, StringComparison.Ordinal);
        Assert.DoesNotContain("vllm_", text, StringComparison.Ordinal);
    }

    [Fact]
    public void RestoreVllmColons_ExpositionText_RenamesOnlyVllmFamilies()
    {
        string input = "# HELP vllm_a Help mentioning vllm_b.\n# TYPE vllm_a gauge\nvllm_a{l=\"vllm_c\"} 1\n"
            + "# HELP mockserve_vllm_d x\nmockserve_vllm_d 2\nvllm_e_bucket{le=\"1\"} 3";
        byte[] bytes = Encoding.UTF8.GetBytes(input);

        MetricsExposition.RestoreVllmColons(bytes);

        Assert.Equal(
            "# HELP vllm:a Help mentioning vllm_b.\n# TYPE vllm:a gauge\nvllm:a{l=\"vllm_c\"} 1\n"
            + "# HELP mockserve_vllm_d x\nmockserve_vllm_d 2\nvllm:e_bucket{le=\"1\"} 3",
            Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public async Task Constructor_TimeMetrics_HelpSaysModelSeconds()
    {
        var rig = new Rig(withEngine: false, vllm: true);

        string text = await rig.ScrapeText(vllmNames: true);

        var helps = text.Split('\n')
            .Where(l => l.StartsWith("# HELP ", StringComparison.Ordinal))
            .Select(l => l["# HELP ".Length..].Split(' ', 2))
            .Where(p => p[0].Contains("_seconds", StringComparison.Ordinal))
            .ToList();
        // mockserve: prefill, TTFT, ITL, swap, E2E, queue, busy, stream lag; vLLM: TTFT, ITL, TPOT, E2E, queue, prefill, decode.
        Assert.Equal(8 + 7, helps.Count);
        Assert.All(helps, p => Assert.True(p[1].Contains("model seconds", StringComparison.OrdinalIgnoreCase), $"{p[0]}: {p[1]}"));
    }

    private static InferenceRequest Request(string id) => new() { RequestId = id, PromptTokens = 100, MaxTokens = 10 };

    private static void Near(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= Math.Abs(expected) * 1e-9, $"expected {expected:R}, got {actual:R}");

    /// <summary>ServerMetrics on a fresh registry, observing an engine (Yi-34B on one A100) on a virtual clock.</summary>
    private sealed class Rig
    {
        private readonly VirtualClock _clock = new();
        private readonly InferenceEngine? _engine;

        public Rig(bool withEngine = true, bool vllm = false, EngineOptions? options = null)
        {
            Metrics = new ServerMetrics(
                ServerMetrics.CreateFactory(Registry),
                new ServerMetricsInfo("1.2.3", "yi-34b", "a100-80gb", 2, "chunked-prefill", 0.01, 3, vllm));
            _engine = withEngine ? new InferenceEngine(Presets.DefaultDeployment, options ?? new EngineOptions(), _clock, Metrics) : null;
        }

        public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

        public ServerMetrics Metrics { get; }

        public InferenceEngine Engine => _engine ?? throw new InvalidOperationException("no engine in this rig");

        public void Submit(string id, long prompt, long maxTokens, string? session = null) =>
            Assert.True(Engine.Submit(new InferenceRequest { RequestId = id, SessionId = session, PromptTokens = prompt, MaxTokens = maxTokens }).IsAccepted);

        public void Run() => Assert.True(_clock.RunUntilIdle(10_000_000), "engine did not go idle");

        public async Task<string> ScrapeText(bool vllmNames = false)
        {
            using var stream = new MemoryStream();
            if (vllmNames)
            {
                await MetricsExposition.ExportTextAsync(Registry, stream);
            }
            else
            {
                await Registry.CollectAndExportAsTextAsync(stream);
            }

            return Encoding.UTF8.GetString(stream.ToArray());
        }

        /// <summary>Every sample line as series (name and labels, as printed) to value.</summary>
        public async Task<Dictionary<string, double>> Scrape(bool vllmNames = false)
        {
            var samples = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (string line in (await ScrapeText(vllmNames)).Split('\n'))
            {
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                int space = line.LastIndexOf(' ');
                samples.Add(line[..space], double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture));
            }

            return samples;
        }
    }
}
