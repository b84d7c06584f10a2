namespace MockServe.Core.Engine;

/// <summary>One turn of a conversation, as the engine sees it: token counts only.</summary>
public sealed record InferenceRequest
{
    public required string RequestId { get; init; }

    /// <summary>Turns with the same session id share the session's KV cache; null for a one-off request.</summary>
    public string? SessionId { get; init; }

    /// <summary>The whole prompt, history included; the part the session already holds is not prefilled again.</summary>
    public required long PromptTokens { get; init; }

    public required long MaxTokens { get; init; }

    /// <summary>The model emits end-of-sequence after this many tokens (finish reason stop); null: only max tokens stops it.</summary>
    public long? StopAfterTokens { get; init; }

    /// <summary>
    /// Hashes of the prompt's full KV blocks (<see cref="PrefixHashes.Chain"/> at the engine's block size). With them,
    /// and no session, the request reuses the blocks of a prefix any earlier request left cached (automatic prefix
    /// caching); null: none.
    /// </summary>
    public IReadOnlyList<ulong>? PrefixHashes { get; init; }

    /// <summary>
    /// The block hashes of the prompt followed by its first n generated tokens (<see cref="PrefixHashes"/> extended),
    /// asked once when the request ends, so that the blocks of its answer stay cached too and a client that resends
    /// the conversation finds all of it (vLLM caches every full block a request computed). Called on the engine's
    /// loop: it must be cheap, linear in n. Null: only the prompt's blocks are cached.
    /// </summary>
    public Func<long, IReadOnlyList<ulong>>? HashesWithOutput { get; init; }
}
