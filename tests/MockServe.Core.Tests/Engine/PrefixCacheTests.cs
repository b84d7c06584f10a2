using MockServe.Core.Engine;

namespace MockServe.Core.Tests.Engine;

/// <summary>Prefix caching's bookkeeping: hashes chained over blocks, shared blocks pinned, free ones evicted in order.</summary>
public class PrefixCacheTests
{
    private static int[] Tokens(int count, int seed = 0) => [.. Enumerable.Range(seed, count)];

    [Fact]
    public void Chain_FullBlocksOnly_OneHashEach()
    {
        // 40 tokens in blocks of 16: two full blocks, 8 tokens left over without a hash.
        Assert.Equal(2, PrefixHashes.Chain(Tokens(40), 16).Length);
        Assert.Empty(PrefixHashes.Chain(Tokens(15), 16));
    }

    [Fact]
    public void Chain_TokenChangedInBlockTwo_HashesDifferFromBlockTwoOn()
    {
        int[] a = Tokens(64);
        int[] b = Tokens(64);
        b[40] = 999_999; // block 2 of 16-token blocks (tokens 32..47)

        var ha = PrefixHashes.Chain(a, 16);
        var hb = PrefixHashes.Chain(b, 16);

        Assert.Equal(ha[..2], hb[..2]);
        Assert.All(Enumerable.Range(2, 2), k => Assert.NotEqual(ha[k], hb[k]));
    }

    [Fact]
    public void Chain_SameBlockAfterDifferentPrefixes_DifferentHashes()
    {
        // Block 1 holds the same tokens in both, after a different block 0: the chain tells them apart.
        int[] a = [.. Tokens(16, 0), .. Tokens(16, 100)];
        int[] b = [.. Tokens(16, 50), .. Tokens(16, 100)];

        Assert.NotEqual(PrefixHashes.Chain(a, 16)[1], PrefixHashes.Chain(b, 16)[1]);
    }

    [Fact]
    public void Match_SharedSystemPrompt_TheCommonLeadingBlocks()
    {
        var cache = new PrefixCache();
        int[] system = Tokens(48);
        var first = PrefixHashes.Chain([.. system, .. Tokens(32, 1000)], 16);
        var second = PrefixHashes.Chain([.. system, .. Tokens(32, 2000)], 16);
        cache.Insert(first, 0);

        // The 48-token system prompt is three full blocks; the users' own messages differ after it.
        Assert.Equal(3, cache.Match(second));
        Assert.Equal(5, cache.Match(first));
    }

    [Fact]
    public void Release_TwoSequencesShareBlocks_FreeOnlyWhenBothLetGo()
    {
        var cache = new PrefixCache();
        var hashes = PrefixHashes.Chain(Tokens(64), 16);
        Assert.Equal(4, cache.Insert(hashes, 0));
        cache.Acquire(hashes, cache.Match(hashes));

        cache.Release(hashes, 4);
        Assert.Equal((4L, 0L), (cache.Blocks, cache.FreeBlocks));
        Assert.Equal(0, cache.Evict(4));

        cache.Release(hashes, 4);
        Assert.Equal((4L, 4L), (cache.Blocks, cache.FreeBlocks));
    }

    [Fact]
    public void Evict_LeastRecentlyUsedFirstAndAPrefixFromItsEnd()
    {
        var cache = new PrefixCache();
        var old = PrefixHashes.Chain(Tokens(48, 0), 16);
        var recent = PrefixHashes.Chain(Tokens(48, 500), 16);
        cache.Insert(old, 0);
        cache.Insert(recent, 0);
        cache.Release(old, 3);
        cache.Release(recent, 3);

        // Two blocks: the older sequence's last two, so its first block still serves a prompt that starts the same.
        Assert.Equal(2, cache.Evict(2));
        Assert.Equal(1, cache.Match(old));
        Assert.Equal(3, cache.Match(recent));

        // Everything: the accounting returns to zero.
        Assert.Equal(4, cache.Evict(100));
        Assert.Equal((0L, 0L), (cache.Blocks, cache.FreeBlocks));
    }

    [Fact]
    public void Insert_BlocksAlreadyCached_PinnedNotAddedTwice()
    {
        var cache = new PrefixCache();
        var shortPrompt = PrefixHashes.Chain(Tokens(32), 16);
        var longPrompt = PrefixHashes.Chain(Tokens(64), 16);
        cache.Insert(shortPrompt, 0);
        cache.Release(shortPrompt, 2);

        // A sequence that computed the whole long prompt itself: its first two blocks were cached meanwhile.
        int added = cache.Insert(longPrompt, 0);

        Assert.Equal(2, added);
        Assert.Equal((4L, 0L), (cache.Blocks, cache.FreeBlocks));
    }
}
