namespace MockServe.Core.Sessions;

/// <summary>
/// The engine's sessions by id, with the idle ones in the order they went idle. Model time only moves forward,
/// so that order is also the order of their expiry: reaping looks only at the sessions that expire.
/// </summary>
internal sealed class SessionTable(double ttlSeconds)
{
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly LinkedList<Session> _idle = new();

    public int Count => _sessions.Count;

    /// <summary>The session idle longest: the least recently used, and the next to expire; null when none is idle.</summary>
    public Session? OldestIdle => _idle.First?.Value;

    public bool TryGet(string id, out Session session) => _sessions.TryGetValue(id, out session!);

    /// <summary>The session with this id, created (with no history) if unknown; it is busy until <see cref="MarkIdle"/>.</summary>
    public Session GetOrAdd(string id)
    {
        if (_sessions.TryGetValue(id, out var session))
        {
            if (session.IdleNode is { } node)
            {
                _idle.Remove(node);
                session.IdleNode = null;
            }

            return session;
        }

        session = new Session(id);
        _sessions.Add(id, session);
        return session;
    }

    /// <summary>Starts the session's TTL at <paramref name="now"/>.</summary>
    public void MarkIdle(Session session, double now)
    {
        session.IdleSince = now;
        session.IdleNode = _idle.AddLast(session);
    }

    public void Remove(Session session)
    {
        if (session.IdleNode is { } node)
        {
            _idle.Remove(node);
            session.IdleNode = null;
        }

        _sessions.Remove(session.Id);
    }

    /// <summary>Removes the sessions idle for a TTL or more at <paramref name="now"/>, oldest first, handing each to <paramref name="forget"/>.</summary>
    public void Reap(double now, Action<Session> forget)
    {
        while (_idle.First is { } node && node.Value.IdleSince + ttlSeconds <= now)
        {
            var session = node.Value;
            Remove(session);
            forget(session);
        }
    }
}
