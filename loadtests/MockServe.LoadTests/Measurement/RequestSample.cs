namespace MockServe.LoadTests.Measurement;

/// <summary>
/// What the driver saw of one request. Every moment is an offset from the start of the run on the runner's
/// <see cref="TimeProvider"/>; the derived latencies follow FIELD-NOTES §3 and are null where undefined.
/// </summary>
public sealed record RequestSample
{
    /// <summary>The status of a successful call.</summary>
    public const string OkStatus = "OK";

    /// <summary>
    /// The status of a request the run itself cut short (still in flight when the grace after the plan ran out): kept in
    /// requests.jsonl and counted as cut, never as the target's error.
    /// </summary>
    public const string CutStatus = "CLIENT_CANCELLED";

    private IReadOnlyList<TimeSpan> _chunkGaps = [];
    private TimeSpan? _worstGap;
    private int _gapCount;

    /// <summary>The scenario that issued the request.</summary>
    public required string Scenario { get; init; }

    /// <summary>The request's number within its scenario, from 0.</summary>
    public long RequestIndex { get; init; }

    /// <summary>The scenario copy (NBomber's copy, a user) that issued it.</summary>
    public int Copy { get; init; }

    /// <summary>The turn's index within its session, from 0; 0 for one-off requests.</summary>
    public int Turn { get; init; }

    /// <summary>The session the turn belongs to; null for a one-off request.</summary>
    public string? SessionId { get; init; }

    /// <summary>When the load simulation meant the request to start.</summary>
    public TimeSpan IntendedStart { get; init; }

    /// <summary>When the driver actually started the call.</summary>
    public TimeSpan ActualStart { get; init; }

    /// <summary>When the first token arrived; null when none did.</summary>
    public TimeSpan? FirstTokenAt { get; init; }

    /// <summary>When the last token arrived; null when none did.</summary>
    public TimeSpan? LastTokenAt { get; init; }

    /// <summary>When the call ended, with a status or an error.</summary>
    public TimeSpan End { get; init; }

    /// <summary>
    /// Gaps between consecutive chunk arrivals. Setting it also sets <see cref="WorstGap"/> and <see cref="GapCount"/>;
    /// the recorder pools the gaps into its histograms and keeps the sample without them.
    /// </summary>
    public IReadOnlyList<TimeSpan> ChunkGaps
    {
        get => _chunkGaps;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            _chunkGaps = value;
            _gapCount = value.Count;
            _worstGap = value.Count == 0 ? null : value.Max();
        }
    }

    /// <summary>The longest gap between consecutive chunks; null with fewer than two chunks.</summary>
    public TimeSpan? WorstGap => _worstGap;

    /// <summary>How many chunk gaps the request had (kept when the gaps themselves are dropped).</summary>
    public int GapCount => _gapCount;

    /// <summary>Output tokens (OSL), from the server's usage.</summary>
    public long OutputTokens { get; init; }

    /// <summary>Prompt tokens, cached ones included, from the server's usage.</summary>
    public long PromptTokens { get; init; }

    /// <summary>Prompt tokens whose KV cache the server reused.</summary>
    public long CachedTokens { get; init; }

    /// <summary>Prompt tokens prefilled again because their KV cache had been dropped.</summary>
    public long RecomputedTokens { get; init; }

    /// <summary>Where the turn found its session's history.</summary>
    public TurnCacheState CacheState { get; init; }

    /// <summary>The server's model-time breakdown; null when it sent none.</summary>
    public ServerTiming? Server { get; init; }

    /// <summary><see cref="OkStatus"/>, or the gRPC status code's name (<c>ResourceExhausted</c>...), or a scenario's own code.</summary>
    public string Status { get; init; } = OkStatus;

    /// <summary>Whether the request succeeded.</summary>
    public bool Ok { get; init; } = true;

    /// <summary>What a failed call said (the status detail or the exception's message); null on success.</summary>
    public string? Error { get; init; }

    /// <summary>A scenario's own latency (NBomber's <c>Response.Ok(latency)</c>); null for LLM streams.</summary>
    public TimeSpan? CustomLatency { get; init; }

    /// <summary>A scenario's own response size in bytes; null when not reported.</summary>
    public long? SizeBytes { get; init; }

    /// <summary>Actual start minus intended start.</summary>
    public TimeSpan ScheduleLateness => ActualStart - IntendedStart;

    /// <summary>First token minus the intended start (client-side queueing included).</summary>
    public TimeSpan? Ttft => FirstTokenAt - IntendedStart;

    /// <summary>First token minus the actual start.</summary>
    public TimeSpan? TtftFromActual => FirstTokenAt - ActualStart;

    /// <summary>Last token (or the end of a call that streamed none) minus the intended start.</summary>
    public TimeSpan E2e => (LastTokenAt ?? End) - IntendedStart;

    /// <summary>(E2E − TTFT) / (OSL − 1), that is (last token − first token) / (OSL − 1); null when OSL &lt; 2.</summary>
    public TimeSpan? Itl => OutputTokens >= 2 && FirstTokenAt is { } first && LastTokenAt is { } last
        ? (last - first) / (OutputTokens - 1)
        : null;

    /// <summary>The value of a per-request metric; null where undefined (and always for the pooled <see cref="Metric.ChunkGap"/>).</summary>
    public TimeSpan? ValueOf(Metric metric) => metric switch
    {
        Metric.Ttft => Ttft,
        Metric.TtftFromActual => TtftFromActual,
        Metric.Itl => Itl,
        Metric.E2e => E2e,
        Metric.WorstGap => WorstGap,
        Metric.ScheduleLateness => ScheduleLateness,
        Metric.Latency => CustomLatency,
        Metric.ServerQueue => Server?.Queue,
        Metric.ServerSwapIn => Server?.SwapIn,
        Metric.ServerPrefill => Server?.Prefill,
        Metric.ServerDecode => Server?.Decode,
        _ => null,
    };

    /// <summary>This sample without its gap list (its worst gap and gap count stay), to keep memory flat.</summary>
    internal RequestSample WithoutGaps()
    {
        if (_chunkGaps.Count == 0)
        {
            return this;
        }

        var copy = this with { ChunkGaps = [] };
        copy._worstGap = _worstGap;
        copy._gapCount = _gapCount;
        return copy;
    }
}
