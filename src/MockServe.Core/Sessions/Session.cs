namespace MockServe.Core.Sessions;

/// <summary>Where an idle session's KV lives.</summary>
internal enum KvLocation
{
    /// <summary>Nowhere: never computed, dropped, or owned by the turn in flight.</summary>
    None,
    Hbm,
    Host,
}

/// <summary>The conversation state the engine keeps between turns.</summary>
internal sealed class Session(string id)
{
    public string Id { get; } = id;

    /// <summary>Tokens of history the session's KV (if any) covers.</summary>
    public long ContextTokens { get; set; }

    public KvLocation Location { get; set; }

    /// <summary>Blocks the idle session holds in <see cref="Location"/>.</summary>
    public long Blocks { get; set; }

    /// <summary>Model time the session last went idle; it expires a TTL later.</summary>
    public double IdleSince { get; set; }

    /// <summary>The turn submitted and not yet finished, if any.</summary>
    public Engine.Sequence? Active { get; set; }

    /// <summary>This session's node in the LRU list of its KV location.</summary>
    public LinkedListNode<Session>? LruNode { get; set; }

    /// <summary>This session's node in the session table's list of idle sessions, oldest first.</summary>
    public LinkedListNode<Session>? IdleNode { get; set; }
}
