using MockServe.Core.Sessions;

namespace MockServe.Core.Engine;

/// <summary>The primitives the scheduling and preemption policies plan a step with; always called at a step's start.</summary>
public sealed partial class InferenceEngine
{
    /// <summary>Swaps preempted sequences back in, oldest first, while HBM and the batch have room.</summary>
    internal void ResumeSwapped(StepPlan plan)
    {
        while (_swapped.First is { } node && _running.Count < Options.MaxRunning)
        {
            var seq = node.Value;
            if (!_kv.MakeRoom(seq.HostBlocks, plan, exclude: null))
            {
                return;
            }

            _swapped.Remove(node);
            seq.QueueNode = null;
            _kv.Host.Release(seq.HostBlocks);
            _kv.Hbm.Allocate(seq.HostBlocks);
            plan.SwapIns.Add((seq, seq.HostBlocks * BlockBytes));
            seq.HbmBlocks = seq.HostBlocks;
            seq.HostBlocks = 0;
            seq.State = SequenceState.Running;
            _running.Add(seq);
        }
    }

    /// <summary>
    /// Gives the head of the waiting queue its KV blocks, reusing its session's history where it is resident
    /// or on host, and evicting idle sessions if needed. False (and nothing changed) when it does not fit now.
    /// </summary>
    internal bool TryAdmit(Sequence seq, StepPlan plan)
    {
        if (_running.Count >= Options.MaxRunning)
        {
            return false;
        }

        var session = seq.Session;
        long promptBlocks = _kv.BlocksFor(seq.PrefillTarget);
        if (seq.Prefix is { } hashes)
        {
            if (!TryAdmitWithPrefix(seq, hashes, promptBlocks, plan))
            {
                return false;
            }
        }
        else if (seq.Admitted || session is null || session.Location == KvLocation.None)
        {
            if (!_kv.MakeRoom(promptBlocks, plan, exclude: null))
            {
                return false;
            }

            _kv.Hbm.Allocate(promptBlocks);
            seq.HbmBlocks = promptBlocks;
            if (!seq.Admitted)
            {
                bool known = session is { ContextTokens: > 0 };
                seq.Cache = known ? CacheState.Miss : CacheState.New;
                seq.RecomputedTokens += known ? Math.Min(session!.ContextTokens, seq.PrefillTarget) : 0;
            }
        }
        else
        {
            long cached = Math.Min(session.ContextTokens, seq.PrefillTarget - 1);
            long keep = _kv.BlocksFor(cached);
            if (session.Location == KvLocation.Hbm)
            {
                long surplus = session.Blocks - keep;
                if (!_kv.MakeRoom(Math.Max(0, promptBlocks - keep - surplus), plan, exclude: session))
                {
                    return false;
                }

                _kv.Unpark(session);
                _kv.Hbm.Release(session.Blocks);
                _kv.Hbm.Allocate(promptBlocks);
                seq.Cache = CacheState.Hot;
            }
            else
            {
                if (!_kv.MakeRoom(promptBlocks, plan, exclude: session))
                {
                    return false;
                }

                _kv.Unpark(session);
                _kv.Host.Release(session.Blocks);
                _kv.Hbm.Allocate(promptBlocks);
                plan.SwapIns.Add((seq, keep * BlockBytes));
                seq.Cache = CacheState.Host;
            }

            session.Location = KvLocation.None;
            session.Blocks = 0;
            seq.HbmBlocks = promptBlocks;
            seq.KvTokens = cached;
            seq.CachedTokens = cached;
        }

        _waiting.Remove(seq.QueueNode!);
        seq.QueueNode = null;
        seq.Admitted = true;
        seq.State = SequenceState.Running;
        _running.Add(seq);
        Emit(EngineEventKind.Admitted, seq, count: seq.CachedTokens);
        return true;
    }

    /// <summary>
    /// Admits a sequence served by the prefix cache: the longest run of its prompt's leading blocks that is cached
    /// is pinned and not prefilled (at least one token always is, as vLLM computes the last prompt token's logits),
    /// and only the rest takes new blocks. A recomputed sequence matches again: its own blocks went to the cache.
    /// </summary>
    private bool TryAdmitWithPrefix(Sequence seq, IReadOnlyList<ulong> hashes, long promptBlocks, StepPlan plan)
    {
        int blockSize = Options.BlockSize;
        var cache = _kv.Prefix;
        if (seq.MatchVersion != cache.Version)
        {
            seq.MatchedBlocks = (int)Math.Min(cache.Match(hashes), (seq.PrefillTarget - 1) / blockSize);
            seq.MatchedFreeBlocks = cache.FreeAmong(hashes, seq.MatchedBlocks);
            seq.MatchVersion = cache.Version;
        }

        int hit = seq.MatchedBlocks;
        long own = promptBlocks - hit;
        // Pinning the hit takes its free blocks out of what eviction may reclaim: without room even so, the sequence
        // waits, found out without pinning and unpinning thousands of blocks each step while a long prompt waits.
        if (_kv.Hbm.Free + _kv.ReclaimableHbmBlocks - seq.MatchedFreeBlocks < own)
        {
            return false;
        }

        cache.Acquire(hashes, hit);
        if (!_kv.MakeRoom(own, plan, exclude: null))
        {
            cache.Release(hashes, hit);
            return false;
        }

        _kv.Hbm.Allocate(own);
        seq.HbmBlocks = own;
        seq.SharedBlocks = hit;
        seq.KvTokens = (long)hit * blockSize;
        if (!seq.Admitted)
        {
            seq.CachedTokens = seq.KvTokens;
            seq.Cache = hit > 0 ? CacheState.Hot : CacheState.New;
        }

        return true;
    }

    /// <summary>
    /// Moves a prefix-cached sequence's computed full prompt blocks into the cache, still pinned by it, so that other
    /// prompts that start the same share them from now on (vLLM caches a block as soon as it is full; here a prompt's
    /// blocks join when its prefill completes). A block another sequence cached first is a duplicate and freed.
    /// </summary>
    internal void CachePrompt(Sequence seq)
    {
        var hashes = seq.Prefix!;
        int full = (int)Math.Min(hashes.Count, seq.KvTokens / Options.BlockSize);
        if (full <= seq.SharedBlocks)
        {
            return;
        }

        int added = _kv.Prefix.Insert(hashes, seq.SharedBlocks, full);
        int moved = full - seq.SharedBlocks;
        _kv.Hbm.Release(moved - added);
        seq.HbmBlocks -= moved;
        seq.SharedBlocks = full;
    }

    /// <summary>
    /// Gives a prefix-cached sequence's blocks back: its computed prompt blocks join the cache, every pin is released
    /// (the cache keeps the blocks until HBM is needed), and its other blocks are freed.
    /// </summary>
    private void ReleasePrefix(Sequence seq)
    {
        CachePrompt(seq);
        _kv.Prefix.Release(seq.Prefix!, seq.SharedBlocks);
        _kv.Hbm.Release(seq.HbmBlocks);
        seq.HbmBlocks = 0;
        seq.SharedBlocks = 0;
    }

    internal void AddPrefill(Sequence seq, long tokens, StepPlan plan)
    {
        plan.Prefills.Add((seq, tokens));
        plan.Cost.AddPrefill(tokens, seq.KvTokens);
        plan.PrefillTokens += tokens;
    }

    /// <summary>
    /// Adds one decode token for every decoding sequence, in admission order. A sequence whose next token needs
    /// a block that HBM cannot give (even after evicting idle sessions) preempts the latest-admitted running
    /// sequences, itself last, as vLLM does.
    /// </summary>
    internal void PlanDecodes(StepPlan plan)
    {
        for (int i = 0; i < _running.Count; i++)
        {
            var seq = _running[i];
            if (!seq.IsDecoding)
            {
                continue;
            }

            long need = _kv.BlocksFor(seq.KvTokens + 1) - seq.HbmBlocks - seq.SharedBlocks;
            while (need > 0 && !_kv.MakeRoom(need, plan, exclude: null))
            {
                var victim = _running[^1];
                Preempt(victim, plan);
                if (victim == seq)
                {
                    break;
                }
            }

            if (seq.State != SequenceState.Running)
            {
                break;
            }

            _kv.Hbm.Allocate(need);
            seq.HbmBlocks += need;
            plan.Cost.AddDecode(seq.KvTokens);
            plan.DecodeKvTokens += seq.KvTokens;
            seq.KvTokens++;
            plan.Decodes.Add(seq);
        }
    }

    /// <summary>Moves a preempted sequence's KV to host, if host DDR can take it.</summary>
    internal bool TrySwapOut(Sequence seq, StepPlan plan)
    {
        if (!_kv.MakeHostRoom(seq.HbmBlocks))
        {
            return false;
        }

        _kv.Host.Allocate(seq.HbmBlocks);
        _kv.Hbm.Release(seq.HbmBlocks);
        plan.SwapOuts.Add((seq.Request.SessionId, seq, seq.HbmBlocks * BlockBytes));
        seq.HostBlocks = seq.HbmBlocks;
        seq.HbmBlocks = 0;
        seq.State = SequenceState.Swapped;
        seq.QueueNode = _swapped.AddLast(seq);
        return true;
    }

    /// <summary>Frees a preempted sequence's KV; it waits at the head of the queue to prefill everything again.</summary>
    internal void DropForRecompute(Sequence seq)
    {
        if (seq.Prefix is not null)
        {
            ReleasePrefix(seq);
        }

        _kv.Hbm.Release(seq.HbmBlocks);
        seq.HbmBlocks = 0;
        seq.RecomputedTokens += seq.KvTokens;
        seq.KvTokens = 0;
        seq.PrefillTarget = seq.Request.PromptTokens + seq.Generated;
        seq.State = SequenceState.Waiting;
        seq.QueueNode = _waiting.AddFirst(seq);
    }
}
