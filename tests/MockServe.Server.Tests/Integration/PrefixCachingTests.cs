using MockServe.Contracts.V1;
using MockServe.Server.Text;

namespace MockServe.Server.Tests.Integration;

/// <summary>
/// Automatic prefix caching through the mockserve.v1 face: text prompts are encoded with the server's tokenizer
/// (o200k here) and their full blocks of 16 tokens hashed, on the fake clock. Expected hits are worked from the
/// tokenizer's own ids: the blocks two prompts share in full, never the last token.
/// </summary>
[Collection(TestServer.Collection)]
public class PrefixCachingTests
{
    private const int Block = 16;

    private static readonly IPromptTokenizer O200k = PromptTokenizers.Create("o200k");

    // About 1,000 tokens of shared instructions, then a question of each request's own.
    private static readonly string System = string.Concat(Enumerable.Range(0, 200).Select(i => $"Rule {i}: answer briefly. "));

    private static int[] Ids(string text) => O200k.Encode(text, long.MaxValue, CancellationToken.None);

    private static long SharedFullBlocks(string a, string b)
    {
        int[] x = Ids(a), y = Ids(b);
        int common = 0;
        while (common < Math.Min(x.Length, y.Length) && x[common] == y[common])
        {
            common++;
        }

        return Math.Min(common / Block, (y.Length - 1) / Block);
    }

    [Fact]
    public async Task Generate_TextSharingALongPrefix_SecondReusesTheSharedFullBlocks()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();
        string first = System + "Question: what is a KV cache?";
        string second = System + "Question: why is decoding memory bound?";

        var a = await server.DriveAsync(server.GenerateAsync(new GenerateRequest { Text = first, MaxTokens = 1 }));
        var b = await server.DriveAsync(server.GenerateAsync(new GenerateRequest { Text = second, MaxTokens = 1 }));

        long shared = SharedFullBlocks(first, second);
        Assert.True(shared > 50, $"only {shared} blocks shared: the test's prompts do not share enough");
        Assert.Equal((0L, CacheState.New), (a.Complete.Usage.CachedTokens, a.Complete.Timing.CacheState));
        Assert.Equal((shared * Block, CacheState.Hot), (b.Complete.Usage.CachedTokens, b.Complete.Timing.CacheState));
        Assert.Equal(Ids(second).Length, b.Complete.Usage.PromptTokens);
        Assert.Equal(
            YiOnA100.Prefill(Ids(second).Length - (shared * Block), shared * Block),
            b.Complete.Timing.Prefill.ToTimeSpan().TotalSeconds,
            6);

        // Nothing runs, so no KV is in use; both prompts' full blocks stay cached, the shared ones once.
        var pool = (await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool;
        long cachedBlocks = (Ids(first).Length / Block) + (Ids(second).Length / Block) - shared;
        Assert.Equal(0, pool.HbmKvBytesUsed);
        Assert.Equal(cachedBlocks * Block * YiOnA100.KvPerToken, pool.HbmKvBytesPrefixFree);
        string metrics = await server.ScrapeAsync();
        Assert.Equal(cachedBlocks, MetricsScrapeTests.Value(metrics, "mockserve_prefix_cache_blocks{state=\"free\"}"));
        Assert.Equal(shared * Block, MetricsScrapeTests.Value(metrics, "mockserve_prefix_cache_hit_tokens_total"));
    }

    [Fact]
    public async Task Generate_PrefixCachingOff_NothingReused()
    {
        await using var server = await TestServer.StartOnFakeClockAsync(("Engine:PrefixCaching", "false"));
        string prompt = System + "Question: what is a KV cache?";

        await server.DriveAsync(server.GenerateAsync(new GenerateRequest { Text = prompt, MaxTokens = 1 }));
        var again = await server.DriveAsync(server.GenerateAsync(new GenerateRequest { Text = prompt, MaxTokens = 1 }));

        Assert.Equal((0L, CacheState.New), (again.Complete.Usage.CachedTokens, again.Complete.Timing.CacheState));
        Assert.Equal(0, (await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool.HbmKvBytesPrefixFree);
    }

    [Fact]
    public async Task Generate_ConversationResentWithTheAnswer_HitsPastThePromptIntoTheAnswer()
    {
        // What an OpenAI client does: no session, the whole conversation again with the answer and a new message.
        // The engine computed the KV of the prompt and all but the last generated token; those full blocks are found.
        await using var server = await TestServer.StartOnFakeClockAsync();
        string turn1 = System + "Question: what is a KV cache?\n";
        var first = await server.DriveAsync(server.GenerateAsync(new GenerateRequest { Text = turn1, MaxTokens = 200, IgnoreEos = true }));
        string turn2 = turn1 + first.Text + "\nQuestion: and prefill?\n";

        var second = await server.DriveAsync(server.GenerateAsync(new GenerateRequest { Text = turn2, MaxTokens = 1 }));

        long computed = Ids(turn1).Length + 200 - 1;
        long expected = Math.Min(computed / Block, SharedFullBlocks(turn1 + first.Text, turn2)) * Block;
        Assert.True(expected > Ids(turn1).Length + 150, $"only {expected} tokens expected cached: the answer did not re-encode as generated");
        Assert.Equal(expected, second.Complete.Usage.CachedTokens);
    }

    [Fact]
    public async Task Generate_SessionWithText_SessionHistoryNotThePrefixCache()
    {
        // A session holds its own history (as before prefix caching): its text is counted, not cached in blocks.
        await using var server = await TestServer.StartOnFakeClockAsync();
        string prompt = System + "Question: what is a KV cache?";

        await server.DriveAsync(server.GenerateAsync(new GenerateRequest { Text = prompt, SessionId = "s", MaxTokens = 1 }));
        var other = await server.DriveAsync(server.GenerateAsync(new GenerateRequest { Text = prompt, MaxTokens = 1 }));

        Assert.Equal(0, other.Complete.Usage.CachedTokens);
    }
}
