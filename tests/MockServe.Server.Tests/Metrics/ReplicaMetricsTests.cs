using System.Text;

using MockServe.Core.Engine;
using MockServe.Server.Metrics;

using Prometheus;

namespace MockServe.Server.Tests.Metrics;

/// <summary>Several replicas' metrics on one registry, told apart by the static label replica.</summary>
public sealed class ReplicaMetricsTests
{
    private static readonly ServerMetricsInfo Info = new("1.2.3", "yi-34b", "a100-80gb", 1, "chunked-prefill", 0.01, 3, ExportVllmNames: true);

    [Fact]
    public async Task CreateFactory_TwoReplicasOnOneRegistry_EachFamilyHasASeriesPerReplica()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var first = new ServerMetrics(ServerMetrics.CreateFactory(registry, 0), Info);
        var second = new ServerMetrics(ServerMetrics.CreateFactory(registry, 1), Info);

        first.CountRequest(RequestOutcomes.RejectedInvalid);
        second.CountRequest(RequestOutcomes.RejectedInvalid);
        second.CountRequest(RequestOutcomes.RejectedInvalid);
        string text = await ExportAsync(registry);

        // Each replica counts its own calls: 1 and 2, not 3 on one shared series.
        Assert.Contains("mockserve_requests_total{outcome=\"rejected_invalid\",replica=\"0\"} 1\n", text);
        Assert.Contains("mockserve_requests_total{outcome=\"rejected_invalid\",replica=\"1\"} 2\n", text);
        Assert.Contains("mockserve_time_scale{replica=\"0\"} 0.01\n", text);
        Assert.Contains("mockserve_time_scale{replica=\"1\"} 0.01\n", text);
        // One family, one HELP and TYPE, whatever the number of replicas.
        Assert.Single(text.Split('\n'), l => l.StartsWith("# TYPE mockserve_requests_total ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreateFactory_TwoReplicasWithVllmNames_VllmSeriesCarryModelNameAndReplica()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var first = new ServerMetrics(ServerMetrics.CreateFactory(registry, 0), Info);
        var second = new ServerMetrics(ServerMetrics.CreateFactory(registry, 1), Info);

        first.UpdatePool(Pool(running: 2));
        second.UpdatePool(Pool(running: 5));
        string text = await ExportAsync(registry, vllmNames: true);

        Assert.Contains("vllm:num_requests_running{model_name=\"yi-34b\",replica=\"0\"} 2\n", text);
        Assert.Contains("vllm:num_requests_running{model_name=\"yi-34b\",replica=\"1\"} 5\n", text);
        Assert.Contains("mockserve_requests_running{replica=\"1\"} 5\n", text);
    }

    [Fact]
    public async Task CreateFactory_OneEngine_NoReplicaLabel()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        _ = new ServerMetrics(ServerMetrics.CreateFactory(registry), Info);

        string text = await ExportAsync(registry);

        Assert.Contains("mockserve_time_scale 0.01\n", text);
        Assert.DoesNotContain("replica=", text);
    }

    private static PoolSnapshot Pool(int running) => new(0, 16, 1, 100, 0, 0, 100, 0, 0, 0, 0, running, 0, 0);

    private static async Task<string> ExportAsync(CollectorRegistry registry, bool vllmNames = false)
    {
        using var stream = new MemoryStream();
        if (vllmNames)
        {
            await MetricsExposition.ExportTextAsync(registry, stream);
        }
        else
        {
            await registry.CollectAndExportAsTextAsync(stream);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
