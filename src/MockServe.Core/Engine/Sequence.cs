using MockServe.Core.Sessions;

namespace MockServe.Core.Engine;

internal enum SequenceState
{
    Waiting,
    Running,
    Swapped,
    Done,
}

/// <summary>The engine's mutable state of one request.</summary>
internal sealed class Sequence(InferenceRequest request, Session? session, double arrival, RequestHandle handle)
{
    public InferenceRequest Request { get; } = request;

    public RequestHandle Handle { get; } = handle;

    public Session? Session { get; } = session;

    public double ArrivalTime { get; } = arrival;

    /// <summary>When the host has handled the request (API, tokenising) and the scheduler may admit it.</summary>
    public double ReadyTime { get; init; } = arrival;

    public SequenceState State { get; set; } = SequenceState.Waiting;

    /// <summary>Node in the waiting or swapped queue.</summary>
    public LinkedListNode<Sequence>? QueueNode { get; set; }

    /// <summary>Completion tokens to produce before finishing.</summary>
    public long Target { get; } = Math.Min(request.MaxTokens, request.StopAfterTokens ?? long.MaxValue);

    public FinishReason TargetReason =>
        Request.StopAfterTokens is { } stop && stop < Request.MaxTokens ? FinishReason.Stop : FinishReason.Length;

    public long Generated { get; set; }

    /// <summary>Tokens that must be in KV before the next token: the prompt, plus output when recomputing.</summary>
    public long PrefillTarget { get; set; }

    /// <summary>Tokens whose KV this sequence holds.</summary>
    public long KvTokens { get; set; }

    /// <summary>HBM blocks of this sequence's own, not counting <see cref="SharedBlocks"/>.</summary>
    public long HbmBlocks { get; set; }

    /// <summary>
    /// The prompt's block hashes when prefix caching serves this sequence (no session), extended over its output when
    /// it ends; else null.
    /// </summary>
    public IReadOnlyList<ulong>? Prefix { get; set; }

    /// <summary>Leading prompt blocks this sequence reads from the prefix cache, pinned there while it runs.</summary>
    public int SharedBlocks { get; set; }

    /// <summary>
    /// While it waits: the prefix cache's <see cref="PrefixCache.Version"/> at which <see cref="MatchedBlocks"/> and
    /// <see cref="MatchedFreeBlocks"/> were found, so a head of the queue that does not fit is not matched again each step.
    /// </summary>
    public long MatchVersion { get; set; } = -1;

    public int MatchedBlocks { get; set; }

    public int MatchedFreeBlocks { get; set; }

    public long HostBlocks { get; set; }

    /// <summary>True once the sequence first got its blocks; a recomputed sequence keeps its first cache state.</summary>
    public bool Admitted { get; set; }

    public CacheState Cache { get; set; }

    public long CachedTokens { get; set; }

    public long RecomputedTokens { get; set; }

    public int Preemptions { get; set; }

    public double FirstTokenTime { get; set; } = double.NaN;

    /// <summary>Model time of the latest token, or the arrival before the first: the start of the next token's gap.</summary>
    public double LastTokenTime { get; set; } = arrival;

    public double SwapInSeconds { get; set; }

    public double PrefillSeconds { get; set; }

    public bool IsPrefilling => State == SequenceState.Running && KvTokens < PrefillTarget;

    public bool IsDecoding => State == SequenceState.Running && KvTokens >= PrefillTarget;
}
