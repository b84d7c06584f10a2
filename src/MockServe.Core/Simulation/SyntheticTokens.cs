using MockServe.Core.Engine;

namespace MockServe.Core.Simulation;

/// <summary>
/// Token ids of resent conversations, for their prefix hashes. A conversation is one stream of tokens (first prompt,
/// answer, next turn's tokens, answer, ...) and the id at a position is a hash of the conversation and the position,
/// so no conversation shares a token with another except the shared prefix, whose ids depend on the position only.
/// Nothing but each conversation's block-hash chain is kept: the ids after its last full block are derived again
/// when the chain is extended, which hashes only the new tokens (<see cref="PrefixHashes.Extend"/>).
/// </summary>
internal sealed class SyntheticTokens
{
    // The conversation key of the shared prefix; every real conversation's key is 1 or more.
    private const ulong SharedKey = 0;

    private readonly int _blockSize;
    private readonly long _sharedTokens;
    private readonly ulong[] _sharedChain;
    private int[] _scratch = [];

    public SyntheticTokens(long sharedPrefixTokens, int blockSize)
    {
        _blockSize = blockSize;
        _sharedTokens = sharedPrefixTokens;
        // Computed once: every conversation's chain begins with the shared prefix's full blocks.
        _sharedChain = Extend([], SharedKey, sharedPrefixTokens / blockSize * blockSize);
    }

    /// <summary>A key per conversation of a user, never <see cref="SharedKey"/>.</summary>
    public static ulong Key(int user, int conversation) => (((ulong)(uint)user << 32) | (uint)conversation) + 1;

    /// <summary>The id of the token at <paramref name="position"/> of conversation <paramref name="key"/>.</summary>
    public int Id(ulong key, long position) => Mix(position < _sharedTokens ? SharedKey : key, position);

    /// <summary>
    /// The block hashes of the conversation's first <paramref name="tokens"/> tokens, given <paramref name="chain"/>,
    /// those of a shorter start of it (empty at first); hashes only the tokens after <paramref name="chain"/>'s blocks.
    /// </summary>
    public ulong[] Extend(ulong[] chain, ulong key, long tokens)
    {
        if (chain.Length == 0 && key != SharedKey && tokens >= (long)_sharedChain.Length * _blockSize)
        {
            chain = _sharedChain;
        }

        long from = (long)chain.Length * _blockSize;
        if (tokens / _blockSize <= chain.Length)
        {
            return chain;
        }

        int count = checked((int)(tokens - from));
        if (_scratch.Length < count)
        {
            _scratch = new int[Math.Max(count, 2 * _scratch.Length)];
        }

        for (int i = 0; i < count; i++)
        {
            _scratch[i] = Id(key, from + i);
        }

        return PrefixHashes.Extend(chain, _scratch.AsSpan(0, count), _blockSize);
    }

    /// <summary>SplitMix64's finaliser (Steele, Lea and Flood, 2014) over key and position: a fixed, well-spread id.</summary>
    private static int Mix(ulong key, long position)
    {
        ulong z = (key * 0x9E3779B97F4A7C15UL) + (ulong)position;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) >> 32);
    }
}
