namespace MockServe.Core.Engine;

/// <summary>Where a turn found its session's history.</summary>
public enum CacheState
{
    /// <summary>No history: a new session or a one-off request.</summary>
    New,

    /// <summary>History resident in HBM: only the new tokens were prefilled.</summary>
    Hot,

    /// <summary>History swapped to host DDR: it came back over the host link first.</summary>
    Host,

    /// <summary>History dropped: the whole prompt was prefilled again.</summary>
    Miss,
}

public enum FinishReason
{
    /// <summary>max_tokens reached.</summary>
    Length,

    /// <summary>The modelled end-of-sequence token.</summary>
    Stop,

    /// <summary>Cancelled by the caller, or its session closed.</summary>
    Cancelled,
}

public enum RejectReason
{
    None,

    /// <summary>The waiting queue is full.</summary>
    QueueFull,

    /// <summary>A token count is missing, negative or beyond the model's context.</summary>
    InvalidArgument,

    /// <summary>The request can never fit in the HBM left for KV.</summary>
    ExceedsKvCapacity,

    /// <summary>The session already has a turn in flight.</summary>
    SessionBusy,

    /// <summary>A request with the same id is in flight.</summary>
    DuplicateRequest,

    /// <summary>The engine has stopped: the server is shutting down.</summary>
    Stopped,

    /// <summary>
    /// A new session, and the engine holds <see cref="EngineOptions.MaxSessions"/>: none of them is idle, or the
    /// policy is to refuse.
    /// </summary>
    SessionLimit,
}

/// <summary>The engine's answer to a submission: the request's handle, or why it was refused.</summary>
public readonly record struct SubmitResult
{
    private SubmitResult(RejectReason reason, string? field, string problem, RequestHandle? handle)
    {
        Reason = reason;
        Field = field;
        Problem = problem;
        Handle = handle;
    }

    public RejectReason Reason { get; }

    /// <summary>The request field at fault (API names: <c>max_tokens</c>), or null when the server's state refused it.</summary>
    public string? Field { get; }

    public string Problem { get; }

    /// <summary>The accepted request's handle; null when refused.</summary>
    public RequestHandle? Handle { get; }

    public bool IsAccepted => Reason == RejectReason.None;

    public string Message => Field is null ? Problem : $"{Field}: {Problem}";

    public static SubmitResult Accepted(RequestHandle handle) => new(RejectReason.None, null, "", handle);

    public static SubmitResult Refused(RejectReason reason, string? field, string problem) => new(reason, field, problem, null);

    public static SubmitResult Refused(RejectReason reason, FieldError error) => new(reason, error.Field, error.Problem, null);
}

/// <summary>A finished (or cancelled) turn with its timing breakdown, in model seconds.</summary>
public sealed record RequestResult
{
    public required InferenceRequest Request { get; init; }

    public FinishReason FinishReason { get; init; }

    public CacheState CacheState { get; init; }

    /// <summary>Prompt tokens including the cached history.</summary>
    public long PromptTokens { get; init; }

    /// <summary>Prompt tokens whose KV was reused (from HBM or host) instead of prefilled.</summary>
    public long CachedTokens { get; init; }

    public long CompletionTokens { get; init; }

    /// <summary>Tokens prefilled again because their KV had been dropped (session miss or recompute preemption).</summary>
    public long RecomputedTokens { get; init; }

    public int Preemptions { get; init; }

    /// <summary>Whether the turn ever got its KV blocks (a turn cancelled while waiting never looked at its cache).</summary>
    public bool Admitted { get; init; }

    public double ArrivalTime { get; init; }

    /// <summary>Model time of the first token; NaN when none was produced.</summary>
    public double FirstTokenTime { get; init; } = double.NaN;

    public double FinishTime { get; init; }

    /// <summary>Waiting before and between the request's own work: TTFT minus swap-in minus prefill.</summary>
    public double QueueSeconds { get; init; }

    public double SwapInSeconds { get; init; }

    public double PrefillSeconds { get; init; }

    /// <summary>First token to last token.</summary>
    public double DecodeSeconds { get; init; }

    public double TimeToFirstToken => FirstTokenTime - ArrivalTime;

    public double EndToEnd => FinishTime - ArrivalTime;

    /// <summary>Mean gap between tokens after the first: (E2E - TTFT) / (tokens - 1); NaN below two tokens.</summary>
    public double InterTokenLatency => CompletionTokens > 1 ? DecodeSeconds / (CompletionTokens - 1) : double.NaN;
}
