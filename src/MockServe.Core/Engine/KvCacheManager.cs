using MockServe.Core.Sessions;

namespace MockServe.Core.Engine;

/// <summary>
/// The paged KV cache in two tiers, HBM and host DDR, and the idle sessions that hold blocks in them, each tier
/// in least-recently-used order. Frees HBM by moving idle sessions to host (or dropping them), and host by
/// dropping the oldest swapped sessions.
/// </summary>
internal sealed class KvCacheManager
{
    private readonly LinkedList<Session> _hbmLru = new();
    private readonly LinkedList<Session> _hostLru = new();
    private readonly int _blockSize;
    private readonly double _tokensKept;
    private readonly bool _swapEnabled;
    private readonly Action<Session> _onDropped;

    public KvCacheManager(double kvCapacityBytes, double hostCapacityBytes, double blockBytes, int blockSize, double tokensKept, bool swapEnabled, Action<Session> onDropped)
    {
        BlockBytes = blockBytes;
        Hbm = new KvBlockPool("HBM", (long)Math.Floor(kvCapacityBytes / blockBytes));
        Host = new KvBlockPool("host", (long)Math.Floor(hostCapacityBytes / blockBytes));
        _blockSize = blockSize;
        _tokensKept = tokensKept;
        _swapEnabled = swapEnabled;
        _onDropped = onDropped;
    }

    public KvBlockPool Hbm { get; }

    /// <summary>Full blocks of earlier prompts, in HBM; the free ones are reclaimed before idle sessions are.</summary>
    public PrefixCache Prefix { get; } = new();

    /// <summary>HBM blocks eviction may reclaim: idle sessions' and free cached prefix blocks.</summary>
    public long ReclaimableHbmBlocks => IdleHbmBlocks + Prefix.FreeBlocks;

    public KvBlockPool Host { get; }

    public double BlockBytes { get; }

    /// <summary>HBM blocks held by idle sessions: cached history that eviction may reclaim.</summary>
    public long IdleHbmBlocks { get; private set; }

    public int IdleSessionsInHbm => _hbmLru.Count;

    public int IdleSessionsOnHost => _hostLru.Count;

    /// <summary>Blocks that <paramref name="tokens"/> of KV take, after token compression.</summary>
    public long BlocksFor(long tokens)
    {
        long stored = (long)Math.Ceiling(tokens * _tokensKept);
        return (stored + _blockSize - 1) / _blockSize;
    }

    /// <summary>
    /// Frees HBM until <paramref name="blocks"/> are free: free cached prefix blocks first (they cost a prefill to
    /// recompute, an idle session a swap or more), then idle sessions, least recently used first, to host when
    /// swapping is on and DDR has room, else dropped. Evicts nothing when that cannot suffice.
    /// </summary>
    public bool MakeRoom(long blocks, StepPlan plan, Session? exclude)
    {
        if (Hbm.Free >= blocks)
        {
            return true;
        }

        long excluded = exclude is { Location: KvLocation.Hbm } ? exclude.Blocks : 0;
        if (Hbm.Free + ReclaimableHbmBlocks - excluded < blocks)
        {
            return false;
        }

        Hbm.Release(Prefix.Evict(blocks - Hbm.Free));

        var node = _hbmLru.First;
        while (Hbm.Free < blocks && node is not null)
        {
            var next = node.Next;
            if (node.Value != exclude)
            {
                Evict(node.Value, plan, exclude);
            }

            node = next;
        }

        return true;
    }

    /// <summary>
    /// Frees host DDR for <paramref name="blocks"/> by dropping the least recently used swapped sessions other
    /// than <paramref name="keep"/>. Drops nothing when that cannot suffice.
    /// </summary>
    public bool MakeHostRoom(long blocks, Session? keep = null)
    {
        long kept = keep is { Location: KvLocation.Host } ? keep.Blocks : 0;
        if (blocks > Host.Total - kept)
        {
            return false;
        }

        var node = _hostLru.First;
        while (Host.Free < blocks && node is not null)
        {
            var next = node.Next;
            if (node.Value != keep)
            {
                Unpark(node.Value);
                Host.Release(node.Value.Blocks);
                Drop(node.Value);
            }

            node = next;
        }

        return Host.Free >= blocks;
    }

    /// <summary>Leaves a finished turn's KV with its idle session, most recently used, in its tier.</summary>
    public void Park(Session session)
    {
        if (session.Location == KvLocation.Hbm)
        {
            session.LruNode = _hbmLru.AddLast(session);
            IdleHbmBlocks += session.Blocks;
        }
        else if (session.Location == KvLocation.Host)
        {
            session.LruNode = _hostLru.AddLast(session);
        }
    }

    /// <summary>Takes a session out of its tier's LRU list: its KV is about to be used, moved or freed.</summary>
    public void Unpark(Session session)
    {
        if (session.LruNode is not { } node)
        {
            return;
        }

        node.List!.Remove(node);
        session.LruNode = null;
        if (session.Location == KvLocation.Hbm)
        {
            IdleHbmBlocks -= session.Blocks;
        }
    }

    /// <summary>Frees a session's KV wherever it lives.</summary>
    public void Free(Session session)
    {
        Unpark(session);
        if (session.Location == KvLocation.Hbm)
        {
            Hbm.Release(session.Blocks);
        }
        else if (session.Location == KvLocation.Host)
        {
            Host.Release(session.Blocks);
        }

        session.Location = KvLocation.None;
        session.Blocks = 0;
    }

    /// <summary>Moves an idle session out of HBM; <paramref name="keep"/> (the session being admitted) is never dropped from host.</summary>
    private void Evict(Session session, StepPlan plan, Session? keep)
    {
        Unpark(session);
        Hbm.Release(session.Blocks);
        if (_swapEnabled && MakeHostRoom(session.Blocks, keep))
        {
            Host.Allocate(session.Blocks);
            session.Location = KvLocation.Host;
            Park(session);
            plan.SwapOuts.Add((session.Id, null, session.Blocks * BlockBytes));
            return;
        }

        Drop(session);
    }

    private void Drop(Session session)
    {
        _onDropped(session);
        session.Location = KvLocation.None;
        session.Blocks = 0;
    }
}
