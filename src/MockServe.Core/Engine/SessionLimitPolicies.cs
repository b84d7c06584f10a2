namespace MockServe.Core.Engine;

/// <summary>What a new session meets when the engine holds <see cref="EngineOptions.MaxSessions"/>, selected by <see cref="EngineOptions.SessionLimitPolicy"/>.</summary>
public static class SessionLimitPolicies
{
    /// <summary>Forget the least recently used idle session (its KV freed) to make room.</summary>
    public const string EvictLru = "evict-lru";

    /// <summary>Refuse the new session; the sessions held stay until they expire or close.</summary>
    public const string Refuse = "refuse";

    /// <summary>The reason (<see cref="EngineEvent.Detail"/>) of a <see cref="EngineEventKind.SessionEvicted"/> event: the limit was reached.</summary>
    public const string LimitReason = "limit";

    public static IReadOnlyList<string> Names { get; } = [EvictLru, Refuse];
}
