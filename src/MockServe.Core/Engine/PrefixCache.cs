namespace MockServe.Core.Engine;

/// <summary>
/// Hashes of a prompt's full KV blocks, as automatic prefix caching keys them (vLLM's APC, SGLang's radix cache):
/// block k's hash covers its token ids and block k-1's hash, so two prompts share block k's hash only if they share
/// every token up to the end of block k.
/// </summary>
public static class PrefixHashes
{
    private const ulong Offset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    /// <summary>One hash per full block of <paramref name="blockSize"/> tokens; a partial last block has none.</summary>
    public static ulong[] Chain(ReadOnlySpan<int> tokenIds, int blockSize) => Extend([], tokenIds, blockSize);

    /// <summary>
    /// The chain of <paramref name="hashes"/> continued over <paramref name="tokenIds"/>, the tokens that follow its
    /// last full block: what <see cref="Chain"/> gives for the whole sequence, in time linear in the new tokens only.
    /// </summary>
    public static ulong[] Extend(IReadOnlyList<ulong> hashes, ReadOnlySpan<int> tokenIds, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        var chain = new ulong[hashes.Count + (tokenIds.Length / blockSize)];
        for (int k = 0; k < hashes.Count; k++)
        {
            chain[k] = hashes[k];
        }

        ulong previous = hashes.Count > 0 ? hashes[^1] : Offset;
        for (int k = 0; k < chain.Length - hashes.Count; k++)
        {
            // FNV-1a over the previous hash's and the block's bytes: stable across processes, unlike HashCode.
            ulong hash = Mix(Offset, previous);
            foreach (int token in tokenIds.Slice(k * blockSize, blockSize))
            {
                hash = Mix(hash, (ulong)(uint)token);
            }

            chain[hashes.Count + k] = previous = hash;
        }

        return chain;
    }

    private static ulong Mix(ulong hash, ulong value)
    {
        for (int b = 0; b < 8; b++)
        {
            hash = (hash ^ ((value >> (8 * b)) & 0xff)) * Prime;
        }

        return hash;
    }
}

/// <summary>
/// The HBM blocks that hold earlier prompts' full KV blocks, keyed by <see cref="PrefixHashes"/>. A block in use by
/// running sequences is pinned (reference counted); one no sequence uses stays cached and free, evicted least
/// recently used first, and within one sequence's release the later blocks first, so that a cached prefix stays
/// usable as long as possible. Every cached block occupies one HBM block, which the engine accounts in its pool.
/// </summary>
internal sealed class PrefixCache
{
    private readonly Dictionary<ulong, Entry> _blocks = [];

    // Cached blocks no sequence uses, least recently used first: what eviction takes.
    private readonly LinkedList<Entry> _free = new();

    /// <summary>Blocks cached, pinned or free: the HBM they occupy.</summary>
    public long Blocks => _blocks.Count;

    /// <summary>Cached blocks no sequence uses: HBM that eviction can reclaim.</summary>
    public long FreeBlocks => _free.Count;

    /// <summary>Cached blocks that two or more sequences read at once: the HBM that sharing saves.</summary>
    public long SharedBlocks { get; private set; }

    /// <summary>
    /// Changes whenever a block is added, evicted, pinned or unpinned: a <see cref="Match"/> and a
    /// <see cref="FreeAmong"/> computed at one version hold until it changes (decode steps leave it alone).
    /// </summary>
    public long Version { get; private set; }

    /// <summary>How many of <paramref name="hashes"/>, from the first, are cached: the prompt's reusable prefix in blocks.</summary>
    public int Match(IReadOnlyList<ulong> hashes)
    {
        int k = 0;
        while (k < hashes.Count && _blocks.ContainsKey(hashes[k]))
        {
            k++;
        }

        return k;
    }

    /// <summary>How many of the first <paramref name="count"/> blocks, all cached, no sequence uses: what pinning them takes from the reclaimable.</summary>
    public int FreeAmong(IReadOnlyList<ulong> hashes, int count)
    {
        int free = 0;
        for (int k = 0; k < count; k++)
        {
            free += _blocks[hashes[k]].References == 0 ? 1 : 0;
        }

        return free;
    }

    /// <summary>Pins the first <paramref name="count"/> blocks, which <see cref="Match"/> found cached, for a sequence.</summary>
    public void Acquire(IReadOnlyList<ulong> hashes, int count)
    {
        Version++;
        for (int k = 0; k < count; k++)
        {
            var entry = _blocks[hashes[k]];
            if (entry.References++ == 0)
            {
                _free.Remove(entry.FreeNode!);
                entry.FreeNode = null;
            }
            else if (entry.References == 2)
            {
                SharedBlocks++;
            }
        }
    }

    /// <summary>
    /// Adds blocks <paramref name="from"/> to <paramref name="to"/> (exclusive; all when omitted) of
    /// <paramref name="hashes"/>, which a sequence computed, as pinned by it; returns how many were new (each takes a
    /// block the sequence gives up, so HBM use does not change). A block already cached (another sequence computed
    /// the same prefix meanwhile) is pinned instead.
    /// </summary>
    public int Insert(IReadOnlyList<ulong> hashes, int from, int? to = null)
    {
        Version++;
        int added = 0;
        for (int k = from; k < (to ?? hashes.Count); k++)
        {
            if (_blocks.TryGetValue(hashes[k], out var entry))
            {
                Acquire([hashes[k]], 1);
                continue;
            }

            _blocks[hashes[k]] = new Entry(hashes[k]) { References = 1 };
            added++;
        }

        return added;
    }

    /// <summary>
    /// Unpins the first <paramref name="count"/> blocks; those no sequence uses any more become free, the last block
    /// the least recently used of them, so eviction takes a prefix from its end.
    /// </summary>
    public void Release(IReadOnlyList<ulong> hashes, int count)
    {
        Version++;
        for (int k = count - 1; k >= 0; k--)
        {
            var entry = _blocks[hashes[k]];
            if (--entry.References == 0)
            {
                entry.FreeNode = _free.AddLast(entry);
            }
            else if (entry.References == 1)
            {
                SharedBlocks--;
            }
        }
    }

    /// <summary>Drops up to <paramref name="blocks"/> free cached blocks, least recently used first; returns how many.</summary>
    public long Evict(long blocks)
    {
        Version++;
        long evicted = 0;
        while (evicted < blocks && _free.First is { } node)
        {
            _free.RemoveFirst();
            _blocks.Remove(node.Value.Hash);
            evicted++;
        }

        return evicted;
    }

    private sealed class Entry(ulong hash)
    {
        public ulong Hash { get; } = hash;

        public int References { get; set; }

        public LinkedListNode<Entry>? FreeNode { get; set; }
    }
}
