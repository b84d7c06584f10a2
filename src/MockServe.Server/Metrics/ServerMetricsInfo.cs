using MockServe.Core.CostModel;

namespace MockServe.Server.Metrics;

/// <summary>What <see cref="ServerMetrics"/> publishes once, at start.</summary>
/// <param name="Version">The server's version, a label of <c>mockserve_build_info</c>.</param>
/// <param name="Model">Model profile id; also vLLM's <c>model_name</c> label.</param>
/// <param name="Gpu">GPU profile id.</param>
/// <param name="TensorParallel">GPUs in the tensor-parallel group.</param>
/// <param name="Scheduler">Scheduling policy name.</param>
/// <param name="TimeScale">Wall seconds per model second.</param>
/// <param name="MaxConcurrentUsers">Users with the configured reference context whose KV fits in HBM at once.</param>
/// <param name="ExportVllmNames">Also export vLLM's metric names, so vLLM dashboards and autoscalers work unchanged.</param>
/// <param name="CostModel">
/// The deployment's cost model, for the <c>mockserve_limit_*</c> gauges a dashboard draws beside the live rates;
/// without it they are not exported.
/// </param>
/// <param name="ReferenceContextTokens">The context each decode sequence has for <c>mockserve_limit_decode_tokens_per_second</c>.</param>
public sealed record ServerMetricsInfo(
    string Version,
    string Model,
    string Gpu,
    int TensorParallel,
    string Scheduler,
    double TimeScale,
    long MaxConcurrentUsers,
    bool ExportVllmNames,
    GpuCostModel? CostModel = null,
    long ReferenceContextTokens = 0);
