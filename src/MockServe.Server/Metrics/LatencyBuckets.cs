namespace MockServe.Server.Metrics;

/// <summary>
/// The histogram buckets of the request latencies, shared by the server's metrics and the load driver's
/// (<c>mockserve_client_*</c>), so the two histograms of one run compare bucket for bucket.
/// </summary>
public static class LatencyBuckets
{
    // TTFT and E2E reach an hour and more: a long queue behind 200K-token prompts (minutes of prefill each on one
    // A100) is a scenario MockServe exists to show.

    /// <summary>Time to first token, seconds.</summary>
    public static IReadOnlyList<double> Ttft { get; } =
        [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600];

    /// <summary>Arrival (or intended start) to last token, seconds.</summary>
    public static IReadOnlyList<double> E2e { get; } =
        [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

    // A decode step reads all weights once: about 5 ms (8B on H100) to 35 ms (34B on A100) at batch 1, and it
    // grows with batch and context; gaps of seconds are prefill stalls and preemptions.

    /// <summary>Gaps between tokens (or chunks), seconds.</summary>
    public static IReadOnlyList<double> Itl { get; } =
        [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
}
