namespace MockServe.Core.Simulation;

/// <summary>Percentiles of one latency, in model seconds (nearest rank).</summary>
public sealed record LatencySummary(long Count, double Mean, double P50, double P90, double P99, double Max)
{
    /// <summary>The 95th percentile; a property rather than a parameter so the positional form stays as it was.</summary>
    public double P95 { get; init; }

    public static LatencySummary From(List<double> values)
    {
        if (values.Count == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0, 0);
        }

        values.Sort();
        return new LatencySummary(values.Count, values.Average(), Rank(values, 0.50), Rank(values, 0.90), Rank(values, 0.99), values[^1])
        {
            P95 = Rank(values, 0.95),
        };
    }

    private static double Rank(List<double> sorted, double q) =>
        sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}

/// <summary>The outcome of a simulated run: the four throughput metrics and the latency percentiles.</summary>
public sealed record SimulationReport
{
    public required string Model { get; init; }

    public required string Gpu { get; init; }

    public int TensorParallel { get; init; }

    public required string Scheduler { get; init; }

    /// <summary>The router in front of the replicas; null for one replica.</summary>
    public string? Router { get; init; }

    public required WorkloadOptions Workload { get; init; }

    public long RequestsCompleted { get; init; }

    public long RequestsRejected { get; init; }

    /// <summary>Turns still queued or running when the duration ended.</summary>
    public long RequestsInFlight { get; init; }

    public long TokensGenerated { get; init; }

    public long PrefillTokens { get; init; }

    public long CachedTokens { get; init; }

    public long ContextSwitches { get; init; }

    public double SwapBytes { get; init; }

    public long RecomputedTokens { get; init; }

    public long Preemptions { get; init; }

    public long SessionsDropped { get; init; }

    /// <summary>Idle sessions forgotten to make room for new ones at <see cref="Engine.EngineOptions.MaxSessions"/>.</summary>
    public long SessionsEvicted { get; init; }

    public required IReadOnlyDictionary<string, long> CacheStates { get; init; }

    /// <summary>Users whose whole first-turn context fits in HBM at once, from the cost model.</summary>
    public long MaxConcurrentUsers { get; init; }

    public double MeanRunning { get; init; }

    public int MaxRunning { get; init; }

    public double MeanWaiting { get; init; }

    public double PrefillTokensPerSecond { get; init; }

    public double DecodeTokensPerSecond { get; init; }

    public double ContextSwitchesPerSecond { get; init; }

    public double SwapBytesPerSecond { get; init; }

    /// <summary>Fractions of the duration the GPU spent on each phase.</summary>
    public required IReadOnlyDictionary<string, double> GpuBusy { get; init; }

    public required LatencySummary TtftSeconds { get; init; }

    /// <summary>Per-request inter-token latency: (E2E - TTFT) / (output tokens - 1).</summary>
    public required LatencySummary ItlSeconds { get; init; }

    public required LatencySummary E2eSeconds { get; init; }

    /// <summary>The mean share of HBM's KV blocks in use (sessions idle or running), averaged over the replicas.</summary>
    public double HbmKvUsed { get; init; }

    /// <summary>Each replica's share: its finished turns, where they found their history, its mean batch.</summary>
    public required IReadOnlyList<ReplicaReport> Replicas { get; init; }

    /// <summary>Engine events (tokens, swaps, prefill chunks, lifecycle) and steps simulated.</summary>
    public long Events { get; init; }

    public long Steps { get; init; }
}

/// <summary>One replica's share of a simulated run.</summary>
public sealed record ReplicaReport(int Index, long RequestsCompleted, IReadOnlyDictionary<string, long> CacheStates, double MeanRunning);
