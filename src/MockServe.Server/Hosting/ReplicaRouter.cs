using MockServe.Core.Cluster;
using MockServe.Core.Engine;

using IRouter = MockServe.Core.Cluster.IRouter;

namespace MockServe.Server.Hosting;

/// <summary>
/// Places the calls of a server with several replicas through one of Core's routers, and keeps the host's record of
/// the replica that last served each session, so that a session that moves is closed where it was (as
/// <see cref="Core.Simulation.SimulationRunner"/> does) and <c>prefix-aware</c> knows where a session's KV is.
/// </summary>
/// <remarks>
/// Core's routers keep state (the next replica, the hash ring) and are not thread-safe, and calls arrive on many
/// threads: one lock covers the router and the record. It is held for a route or an update of the record, each a
/// few hundred nanoseconds, and never while calling out. The engines' queue lengths the router reads are the counters
/// each loop publishes after every pass (<see cref="EngineLoop.Running"/>, <see cref="EngineLoop.Waiting"/>), so
/// routing never waits for an engine's thread.
/// </remarks>
internal sealed class ReplicaRouter
{
    private readonly object _gate = new();
    private readonly IRouter _router;
    private readonly IReplicaView[] _views;
    private readonly SessionPlacements _placements;

    /// <param name="router">A fresh router, used only here.</param>
    /// <param name="engines">The replicas, in index order.</param>
    /// <param name="maxSessionsPerReplica">Engine:MaxSessions: no replica holds more sessions, so the record keeps at most this many per replica.</param>
    public ReplicaRouter(IRouter router, IReadOnlyList<EngineLoop> engines, int maxSessionsPerReplica)
    {
        _router = router;
        _placements = new SessionPlacements((int)Math.Min(int.MaxValue, (long)maxSessionsPerReplica * engines.Count));
        _views = [.. engines.Select((engine, i) => new View(engine, _placements, i))];
    }

    public string Name => _router.Name;

    /// <summary>The replica that serves a call; <paramref name="key"/> is its session id, or its request id when it has none.</summary>
    public int Route(string key)
    {
        lock (_gate)
        {
            return _router.Route(key, _views);
        }
    }

    /// <summary>Records that <paramref name="replica"/> accepted a turn of the session, of <paramref name="promptTokens"/> tokens.</summary>
    /// <returns>The replica the session left (whose KV of it is now of no use), or -1 when it stayed or is new.</returns>
    public int Placed(string sessionId, int replica, long promptTokens)
    {
        lock (_gate)
        {
            return _placements.Set(sessionId, replica, promptTokens);
        }
    }

    /// <summary>Forgets the session (it was closed).</summary>
    public void Forget(string sessionId)
    {
        lock (_gate)
        {
            _placements.Remove(sessionId);
        }
    }

    /// <summary>What the router sees of one replica; read under the router's lock.</summary>
    private sealed class View(EngineLoop engine, SessionPlacements placements, int index) : IReplicaView
    {
        public int Running => engine.Running;

        public int Waiting => engine.Waiting;

        public long CachedTokens(string sessionId) => placements.TokensOn(sessionId, index);
    }
}

/// <summary>
/// Which replica last accepted a turn of each session, and that turn's prompt tokens (its history there, as far as the
/// host knows: the engine may since have dropped it, or expired the session). Least recently placed sessions are
/// forgotten beyond <c>capacity</c>, so the record never outgrows what the replicas together can hold. Not
/// thread-safe: <see cref="ReplicaRouter"/> locks around it.
/// </summary>
internal sealed class SessionPlacements(int capacity)
{
    private readonly Dictionary<string, LinkedListNode<Placement>> _bySession = new(StringComparer.Ordinal);
    private readonly LinkedList<Placement> _byAge = new();

    public int Count => _bySession.Count;

    public long TokensOn(string sessionId, int replica) =>
        _bySession.TryGetValue(sessionId, out var node) && node.Value.Replica == replica ? node.Value.Tokens : 0;

    /// <returns>The session's previous replica when it differs from <paramref name="replica"/>; else -1.</returns>
    public int Set(string sessionId, int replica, long tokens)
    {
        int left = -1;
        if (_bySession.Remove(sessionId, out var old))
        {
            _byAge.Remove(old);
            left = old.Value.Replica == replica ? -1 : old.Value.Replica;
        }
        else if (_bySession.Count >= capacity && _byAge.First is { } oldest)
        {
            _bySession.Remove(oldest.Value.SessionId);
            _byAge.RemoveFirst();
        }

        _bySession.Add(sessionId, _byAge.AddLast(new Placement(sessionId, replica, tokens)));
        return left;
    }

    public void Remove(string sessionId)
    {
        if (_bySession.Remove(sessionId, out var node))
        {
            _byAge.Remove(node);
        }
    }

    private readonly record struct Placement(string SessionId, int Replica, long Tokens);
}
