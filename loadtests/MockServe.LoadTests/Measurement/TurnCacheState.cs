using MockServe.Contracts.V1;

namespace MockServe.LoadTests.Measurement;

/// <summary>Where a turn found its session's history, as the server reported it (FIELD-NOTES §2).</summary>
public enum TurnCacheState
{
    /// <summary>Not reported (a non-LLM scenario, a failed call, or a server that does not say).</summary>
    Unknown,

    /// <summary>No history: a new session or a one-off request.</summary>
    New,

    /// <summary>History resident in HBM.</summary>
    Hot,

    /// <summary>History swapped out to host memory and brought back.</summary>
    Host,

    /// <summary>History dropped and prefilled again.</summary>
    Miss,
}

/// <summary>Conversions between <see cref="TurnCacheState"/>, its report name and the proto's <see cref="CacheState"/>.</summary>
public static class TurnCacheStates
{
    /// <summary><c>unknown</c>, <c>new</c>, <c>hot</c>, <c>host</c> or <c>miss</c>.</summary>
    public static string Name(this TurnCacheState state) => state switch
    {
        TurnCacheState.New => "new",
        TurnCacheState.Hot => "hot",
        TurnCacheState.Host => "host",
        TurnCacheState.Miss => "miss",
        _ => "unknown",
    };

    /// <summary>The driver's view of the server's cache state.</summary>
    public static TurnCacheState FromProto(CacheState state) => state switch
    {
        CacheState.New => TurnCacheState.New,
        CacheState.Hot => TurnCacheState.Hot,
        CacheState.Host => TurnCacheState.Host,
        CacheState.Miss => TurnCacheState.Miss,
        _ => TurnCacheState.Unknown,
    };
}
