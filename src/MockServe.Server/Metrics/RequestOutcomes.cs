namespace MockServe.Server.Metrics;

/// <summary>The label values of <c>mockserve_requests_total{outcome}</c>: a fixed set, so the series stay few.</summary>
public static class RequestOutcomes
{
    /// <summary>The engine finished the turn (max tokens or end of sequence).</summary>
    public const string Finished = "finished";

    /// <summary>The engine ended the turn early: the caller cancelled or its session closed.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>Refused because the waiting queue was full.</summary>
    public const string RejectedQueueFull = "rejected_queue_full";

    /// <summary>Refused because it would start a session and the engine holds its limit (Engine:MaxSessions), none evictable.</summary>
    public const string RejectedSessionLimit = "rejected_session_limit";

    /// <summary>Refused because an argument was invalid or the turn could never fit.</summary>
    public const string RejectedInvalid = "rejected_invalid";

    /// <summary>Refused because the server was draining or not ready.</summary>
    public const string RejectedUnavailable = "rejected_unavailable";

    /// <summary>Failed on purpose by failure injection before it reached the engine.</summary>
    public const string FailedInjected = "failed_injected";

    public static IReadOnlyList<string> All { get; } =
        [Finished, Cancelled, RejectedQueueFull, RejectedSessionLimit, RejectedInvalid, RejectedUnavailable, FailedInjected];
}
