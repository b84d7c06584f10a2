using MockServe.Core.Profiles;

namespace MockServe.Core.Engine;

/// <summary>Scheduler settings of one engine (one model replica).</summary>
public sealed record EngineOptions
{
    /// <summary>Tokens per paged KV block (vLLM's default is 16).</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>Requests that may wait for admission; one more is refused at once.</summary>
    public int MaxWaiting { get; init; } = 1024;

    /// <summary>Sequences that may run at once (vLLM's max_num_seqs).</summary>
    public int MaxRunning { get; init; } = 256;

    /// <summary>
    /// Token budget of one step (vLLM's max_num_batched_tokens): decodes and prompt chunks under
    /// chunked-prefill; the prompts batched into one step under prefill-first (a longer prompt runs alone).
    /// </summary>
    public int MaxBatchedTokens { get; init; } = 2048;

    /// <summary>Scheduling policy by name: chunked-prefill or prefill-first.</summary>
    public string Scheduler { get; init; } = SchedulingPolicies.ChunkedPrefill;

    /// <summary>What happens to a running sequence evicted for lack of HBM: swap or recompute.</summary>
    public string Preemption { get; init; } = PreemptionPolicies.Swap;

    /// <summary>Whether idle sessions may be swapped to host DDR; when off, their KV is dropped.</summary>
    public bool SwapEnabled { get; init; } = true;

    /// <summary>
    /// Automatic prefix caching: full blocks of requests that carry <see cref="InferenceRequest.PrefixHashes"/> stay
    /// cached after them and serve later prompts that start the same. Needs every token's KV kept (no token
    /// compression).
    /// </summary>
    public bool PrefixCaching { get; init; } = true;

    /// <summary>Model seconds an idle session is kept before its KV is freed.</summary>
    public double SessionTtlSeconds { get; init; } = 600;

    /// <summary>
    /// Sessions the engine holds at once, idle or with a turn in flight; a new session beyond it meets
    /// <see cref="SessionLimitPolicy"/>. Without a cap, memory grows with arrival rate x TTL.
    /// </summary>
    /// <remarks>
    /// Measured: an idle session costs the engine about 264 bytes of managed heap (100,000 one-turn sessions with
    /// 15-character ids: 26.4 MB after full collections) and the server 2.5 to 3.3 MB of RSS per 10,000 (100,000 to
    /// 300,000 sessions over gRPC), so the default holds idle sessions to about 26 MB of heap, 25 to 33 MB of RSS.
    /// </remarks>
    public int MaxSessions { get; init; } = 100_000;

    /// <summary>
    /// What a new session meets when <see cref="MaxSessions"/> are held: evict-lru forgets the least recently used
    /// idle session (its KV freed, as at expiry), refuse refuses the new one. Either way, when every session held
    /// has a turn in flight the new one is refused.
    /// </summary>
    public string SessionLimitPolicy { get; init; } = SessionLimitPolicies.EvictLru;

    /// <summary>Every problem, named by property ("MaxRunning"); <see cref="SettingError.Join"/> makes a message of them.</summary>
    public IReadOnlyList<SettingError> Validate()
    {
        var errors = new List<SettingError>();
        if (BlockSize is < 1 or > 1024)
        {
            errors.Add(new SettingError(nameof(BlockSize), $"must be between 1 and 1024, got {BlockSize}"));
        }

        if (MaxWaiting is < 0 or > 1_000_000)
        {
            errors.Add(new SettingError(nameof(MaxWaiting), $"must be between 0 and 1000000, got {MaxWaiting}"));
        }

        if (MaxRunning is < 1 or > 65_536)
        {
            errors.Add(new SettingError(nameof(MaxRunning), $"must be between 1 and 65536, got {MaxRunning}"));
        }

        if (MaxBatchedTokens is < 1 or > 10_000_000)
        {
            errors.Add(new SettingError(nameof(MaxBatchedTokens), $"must be between 1 and 10000000, got {MaxBatchedTokens}"));
        }

        if (!SchedulingPolicies.Names.Contains(Scheduler))
        {
            errors.Add(new SettingError(nameof(Scheduler), $"unknown policy '{Scheduler}', expected one of {string.Join(", ", SchedulingPolicies.Names)}"));
        }

        if (!PreemptionPolicies.Names.Contains(Preemption))
        {
            errors.Add(new SettingError(nameof(Preemption), $"unknown mode '{Preemption}', expected one of {string.Join(", ", PreemptionPolicies.Names)}"));
        }

        if (!(SessionTtlSeconds > 0))
        {
            errors.Add(new SettingError(nameof(SessionTtlSeconds), $"must be a positive number of seconds, got {SessionTtlSeconds}"));
        }

        if (MaxSessions is < 1 or > 10_000_000)
        {
            errors.Add(new SettingError(nameof(MaxSessions), $"must be between 1 and 10000000, got {MaxSessions}"));
        }

        if (!SessionLimitPolicies.Names.Contains(SessionLimitPolicy))
        {
            errors.Add(new SettingError(nameof(SessionLimitPolicy), $"unknown policy '{SessionLimitPolicy}', expected one of {string.Join(", ", SessionLimitPolicies.Names)}"));
        }

        return errors;
    }
}
