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
public sealed record ServerMetricsInfo(
    string Version,
    string Model,
    string Gpu,
    int TensorParallel,
    string Scheduler,
    double TimeScale,
    long MaxConcurrentUsers,
    bool ExportVllmNames);
