using System.Globalization;

using MockServe.Core.CostModel;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Metrics;

using Prometheus;

namespace MockServe.Server.Tests.Metrics;

/// <summary>The <c>mockserve_limit_*</c> gauges, worked by hand for Yi-34B on A100 SXM4 80GB (FIELD-NOTES §1).</summary>
public sealed class LimitMetricsTests
{
    // Yi-34B: 34.39e9 parameters, all active, BF16; KV 2 x 60 layers x 8 heads x 128 dims x 2 B = 245,760 B per token.
    private const double YiWeightBytes = 34.39e9 * 2;
    private const double YiKvBytesPerToken = 2.0 * 60 * 8 * 128 * 2;

    // A100 SXM4 80GB datasheet: 312 TFLOP/s dense BF16, 2,039 GB/s HBM2e, PCIe 4.0 x16 at 32 GB/s each way.
    private const double A100Flops = 312e12;
    private const double A100Bandwidth = 2.039e12;
    private const double A100Pcie = 32e9;

    private const long ReferenceContext = 50_000;

    [Fact]
    public async Task ServerMetrics_DefaultProfile_PrefillLimitIsPeakFlopsOverTwoFlopsPerParameter()
    {
        var rig = new Rig(Presets.DefaultDeployment);

        var m = await rig.Scrape();

        // 312e12 FLOP/s x 1.0 utilisation x 1 GPU / (2 x 34.39e9) = 4,536.23 tokens per model second.
        Near(A100Flops / (2 * 34.39e9), m["mockserve_limit_prefill_tokens_per_second"]);
        Assert.InRange(m["mockserve_limit_prefill_tokens_per_second"], 4536.2, 4536.3);
    }

    [Fact]
    public async Task ServerMetrics_DefaultProfile_HostLinkLimitIsOnePcieLink()
    {
        var rig = new Rig(Presets.DefaultDeployment);

        var m = await rig.Scrape();

        Assert.Equal(A100Pcie, m["mockserve_limit_host_link_bytes_per_second"]);
    }

    [Fact]
    public async Task ServerMetrics_TwoGpus_PrefillAndHostLinkLimitsDouble()
    {
        var rig = new Rig(Presets.DefaultDeployment with { TensorParallel = 2 });

        var m = await rig.Scrape();

        // Each GPU has its own PCIe link and computes its shard: 2 x 32 GB/s, 2 x 4,536.23 tokens/s.
        Assert.Equal(2 * A100Pcie, m["mockserve_limit_host_link_bytes_per_second"]);
        Near(2 * A100Flops / (2 * 34.39e9), m["mockserve_limit_prefill_tokens_per_second"]);
    }

    [Fact]
    public async Task ServerMetrics_BeforeAnyDecode_DecodeLimitIsOneSequenceAtTheReferenceContext()
    {
        var rig = new Rig(Presets.DefaultDeployment);

        var m = await rig.Scrape();

        // Memory bound: (68.78e9 weight bytes + 245,760 x 50,000 = 12.288e9 KV bytes) / 2.039e12 B/s = 39.76 ms
        // a step (compute: (2 x 34.39e9 + 50,001 pairs x 1,720,320 FLOPs) / 312e12 = 0.5 ms), so 25.15 tokens/s.
        double step = (YiWeightBytes + (YiKvBytesPerToken * ReferenceContext)) / A100Bandwidth;
        Near(1 / step, m["mockserve_limit_decode_tokens_per_second"]);
        Assert.InRange(m["mockserve_limit_decode_tokens_per_second"], 25.15, 25.16);
    }

    [Fact]
    public async Task OnStep_BatchShrinksToThree_DecodeLimitFollowsTheLastBatch()
    {
        var rig = new Rig(Presets.DefaultDeployment);
        for (int i = 0; i < 4; i++)
        {
            rig.Submit($"r{i}", prompt: 100, maxTokens: 5);
        }

        rig.Run();
        var m = await rig.Scrape();

        // r0's prompt starts a step alone (token 1); the next step prefills r1..r3 and decodes r0 (batch 1); three
        // steps decode all four (r0 ends at token 5); the last decodes r1..r3 (batch 3): 1 + 4 + 4 + 4 + 3 = 16.
        Assert.Equal(5, m["mockserve_decode_batch_size_count"]);
        Assert.Equal(16, m["mockserve_decode_batch_size_sum"]);
        // (68.78e9 + 3 x 12.288e9 = 105.644e9 bytes) / 2.039e12 B/s = 51.81 ms a step: 3 / 0.05181 = 57.90 tokens/s.
        double step = (YiWeightBytes + (3 * YiKvBytesPerToken * ReferenceContext)) / A100Bandwidth;
        Near(3 / step, m["mockserve_limit_decode_tokens_per_second"]);
        Assert.InRange(m["mockserve_limit_decode_tokens_per_second"], 57.89, 57.91);
    }

    [Fact]
    public async Task ServerMetrics_NoCostModel_ExportsNoLimits()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        _ = new ServerMetrics(
            ServerMetrics.CreateFactory(registry),
            new ServerMetricsInfo("1.2.3", "yi-34b", "a100-80gb", 1, "chunked-prefill", 0.01, 3, ExportVllmNames: false));

        var m = await Scrape(registry);

        Assert.DoesNotContain(m.Keys, k => k.StartsWith("mockserve_limit_", StringComparison.Ordinal));
        Assert.Contains("mockserve_max_concurrent_users", m.Keys);
    }

    private static void Near(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= Math.Abs(expected) * 1e-9, $"expected {expected:R}, got {actual:R}");

    private static async Task<Dictionary<string, double>> Scrape(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n'))
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

    /// <summary>ServerMetrics with the limits of <paramref name="deployment"/>, observing its engine on a virtual clock.</summary>
    private sealed class Rig
    {
        private readonly VirtualClock _clock = new();
        private readonly InferenceEngine _engine;
        private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();

        public Rig(Deployment deployment)
        {
            var metrics = new ServerMetrics(
                ServerMetrics.CreateFactory(_registry),
                new ServerMetricsInfo("1.2.3", deployment.Model.Id, deployment.Gpu.Id, deployment.TensorParallel, "chunked-prefill",
                    0.01, 3, ExportVllmNames: false, new GpuCostModel(deployment), ReferenceContext));
            _engine = new InferenceEngine(deployment, new EngineOptions(), _clock, metrics);
        }

        public void Submit(string id, long prompt, long maxTokens) =>
            Assert.True(_engine.Submit(new InferenceRequest { RequestId = id, PromptTokens = prompt, MaxTokens = maxTokens }).IsAccepted);

        public void Run() => Assert.True(_clock.RunUntilIdle(10_000_000), "engine did not go idle");

        public Task<Dictionary<string, double>> Scrape() => LimitMetricsTests.Scrape(_registry);
    }
}
