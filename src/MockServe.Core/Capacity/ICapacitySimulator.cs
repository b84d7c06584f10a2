using MockServe.Core.Simulation;

namespace MockServe.Core.Capacity;

/// <summary>What the capacity search asks of a simulator: one run at a load and seed. Tests pass a fake.</summary>
public interface ICapacitySimulator
{
    /// <summary>One run: <paramref name="load"/> is concurrent users (closed loop) or conversations per second (open loop).</summary>
    CapacityRun Run(double load, int seed);
}

/// <summary>What one run measured after its warm-up: the latencies judged, and the four throughput metrics' shares.</summary>
public sealed record CapacityRun
{
    public required LatencySummary Ttft { get; init; }

    public required LatencySummary Itl { get; init; }

    public required LatencySummary E2e { get; init; }

    /// <summary>Turns that finished and arrived after the warm-up: the ones the percentiles are over.</summary>
    public long MeasuredTurns { get; init; }

    /// <summary>Turns still queued or running at the end plus turns the server refused: work the percentiles do not see.</summary>
    public long StrandedTurns { get; init; }

    /// <summary>Measured turns that met every SLO on their own.</summary>
    public long GoodTurns { get; init; }

    /// <summary>Model seconds after the warm-up.</summary>
    public double MeasuredSeconds { get; init; }

    /// <summary>Mean share of HBM's KV blocks in use.</summary>
    public double HbmKvUsed { get; init; }

    /// <summary>
    /// How full HBM is for this workload: <see cref="HbmKvUsed"/> plus the share one more first-turn context would
    /// take (1 / the users that fit), at most 1. At 1 the next user's context does not fit beside what is resident: a
    /// 50K context that fills 61% of the blocks on average leaves no room for a second one of 82%.
    /// </summary>
    public double ConcurrencyShare { get; init; }

    /// <summary>Share of time the GPUs spent prefilling.</summary>
    public double PrefillBusy { get; init; }

    /// <summary>Share of time the GPUs spent decoding.</summary>
    public double DecodeBusy { get; init; }

    /// <summary>Share of time the host link moved KV: context switching.</summary>
    public double SwapBusy { get; init; }

    /// <summary>The cost model's users whose first-turn context fits in HBM at once (summed over replicas).</summary>
    public long MaxConcurrentUsers { get; init; }

    /// <summary>Simulated events and steps: what the run cost in CPU.</summary>
    public long Events { get; init; }
}
