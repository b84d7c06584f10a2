using MockServe.Core.Engine;
using MockServe.Tests.Shared;

namespace MockServe.Core.Tests.Engine;

/// <summary>Automatic prefix caching in the engine, on the virtual clock (Yi-34B on one A100, blocks of 16 tokens).</summary>
public class PrefixCachingTests
{
    private static void Near(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= Math.Abs(expected) * 1e-9, $"expected {expected:R}, got {actual:R}");

    /// <summary>A prompt of <paramref name="length"/> token ids from <paramref name="first"/> on.</summary>
    private static int[] Prompt(int length, int first = 0) => [.. Enumerable.Range(first, length)];

    private static SubmitResult Submit(EngineHarness h, string id, int[] prompt, long maxTokens = 4, string? session = null) =>
        h.Engine.Submit(new InferenceRequest
        {
            RequestId = id,
            SessionId = session,
            PromptTokens = prompt.Length,
            MaxTokens = maxTokens,
            PrefixHashes = PrefixHashes.Chain(prompt, 16),
        });

    [Fact]
    public void Submit_SamePromptAgain_AllButTheLastBlockCachedAndOnlyItPrefilled()
    {
        var h = new EngineHarness();
        int[] prompt = Prompt(2000);
        Submit(h, "a", prompt);
        h.Run("a");

        Submit(h, "b", prompt);
        var b = h.Run("b");

        // 2000 tokens are 125 full blocks; at least one token is prefilled, so 124 blocks (1984 tokens) are reused.
        Assert.Equal((CacheState.Hot, 1984L), (b.CacheState, b.CachedTokens));
        Near(YiOnA100.Prefill(16, 1984), b.TimeToFirstToken);
        Assert.Equal(CacheState.New, h.Results["a"].CacheState);
    }

    [Fact]
    public void Submit_TokenChangedInBlockTen_ReusesTheTenBlocksBeforeIt()
    {
        var h = new EngineHarness();
        int[] first = Prompt(2000);
        int[] second = Prompt(2000);
        second[165] = -1; // block 10 holds tokens 160..175
        Submit(h, "a", first);
        h.Run("a");

        Submit(h, "b", second);

        Assert.Equal(160, h.Run("b").CachedTokens);
    }

    [Fact]
    public void Submit_WithoutHashesOrWithPrefixCachingOff_NothingCached()
    {
        var off = new EngineHarness(options: new EngineOptions { PrefixCaching = false });
        Submit(off, "a", Prompt(2000));
        off.Run("a");
        Submit(off, "b", Prompt(2000));

        Assert.Equal(0, off.Run("b").CachedTokens);
        Assert.Equal(0, off.Engine.Snapshot().HbmBlocksUsed);
    }

    [Fact]
    public void Submit_SharedSystemPromptWhileTheFirstRuns_LaterUsersShareItsBlocks()
    {
        var h = new EngineHarness();
        int[] system = Prompt(4000);
        Submit(h, "first", [.. system, .. Prompt(100, 100_000)], maxTokens: 200);
        // The first user's prefill completes within a second; the others arrive while it decodes.
        h.Clock.RunUntil(2);
        Submit(h, "second", [.. system, .. Prompt(100, 200_000)]);
        Submit(h, "third", [.. system, .. Prompt(100, 300_000)]);
        h.Run("first");

        // 4000 tokens of system prompt are 250 full blocks, shared by every later user.
        Assert.Equal(4000, h.Results["second"].CachedTokens);
        Assert.Equal(4000, h.Results["third"].CachedTokens);
    }

    [Fact]
    public void SharedSystemPrompt_RaisesTheUsersThatRunAtOnce()
    {
        // 60,912 tokens of KV on the A100: users of 40,000 system + 500 own tokens run one at a time without
        // sharing, while with it the 2,500 system blocks are held once and each user adds 32 blocks of its own.
        static int MaxRunning(bool share)
        {
            var h = new EngineHarness();
            int[] system = Prompt(40_000);
            var warm = h.Engine.Submit(new InferenceRequest
            {
                RequestId = "warm",
                PromptTokens = 40_016,
                MaxTokens = 1,
                PrefixHashes = share ? PrefixHashes.Chain([.. system, .. Prompt(16, -16)], 16) : null,
            });
            Assert.True(warm.IsAccepted);
            h.Run("warm");
            for (int u = 0; u < 6; u++)
            {
                int[] prompt = [.. system, .. Prompt(500, 1_000_000 * (u + 1))];
                Assert.True(h.Engine.Submit(new InferenceRequest
                {
                    RequestId = $"u{u}",
                    PromptTokens = prompt.Length,
                    MaxTokens = 8,
                    PrefixHashes = share ? PrefixHashes.Chain(prompt, 16) : null,
                }).IsAccepted);
            }

            h.Run("u5");
            return h.Steps.Max(s => s.Running);
        }

        Assert.Equal(1, MaxRunning(share: false));
        Assert.Equal(6, MaxRunning(share: true));
    }

    [Fact]
    public void Finish_EveryRequest_BlocksStayCachedAndReclaimableAndAccountingAddsUp()
    {
        var h = new EngineHarness();
        Submit(h, "a", Prompt(1000), maxTokens: 50);
        Submit(h, "b", Prompt(3000, 50_000), maxTokens: 50);
        h.Run("b");

        var pool = h.Engine.Snapshot();

        // 1000 tokens: 62 full blocks; 3000: 187. Outputs and partial blocks are freed; full prompt blocks stay cached,
        // free (as vLLM counts them), so KV in use is back to zero and HBM holds nothing a new request cannot take.
        Assert.Equal((0L, 0L), (pool.HbmBlocksUsed, pool.HbmBlocksIdle));
        Assert.Equal((62L + 187, 0L, 0L), (pool.PrefixBlocksFree, pool.PrefixBlocksInUse, pool.PrefixBlocksShared));
        Assert.Equal(0, h.Engine.HbmKvUsedFraction);
    }

    [Fact]
    public void Snapshot_TwoUsersReadOneSystemPrompt_ItsBlocksCountOnceAsUsedAndAsShared()
    {
        var h = new EngineHarness();
        int[] system = Prompt(4000);
        Submit(h, "first", [.. system, .. Prompt(100, 100_000)], maxTokens: 400);
        h.Clock.RunUntil(2);
        Submit(h, "second", [.. system, .. Prompt(100, 200_000)], maxTokens: 400);
        h.Clock.RunUntil(4);

        var pool = h.Engine.Snapshot();

        // Each user's prompt has 256 full blocks (250 of system prompt, 6 its own), cached and pinned while it runs.
        // The 250 system blocks are held once, read by both; what else the users hold is their own.
        Assert.Equal((250L, 250L + 6 + 6, 0L), (pool.PrefixBlocksShared, pool.PrefixBlocksInUse, pool.PrefixBlocksFree));
        Assert.Equal(2, pool.Running);
        Assert.True(pool.HbmBlocksUsed < 2 * 256, $"used {pool.HbmBlocksUsed}: the system prompt is held twice");
    }

    [Fact]
    public void Finish_WithOutputHashes_AnswerBlocksCachedSoAResentConversationHitsPastItsPrompt()
    {
        // Turn 1: 1000 prompt tokens and 300 generated. The conversation resent with 200 new tokens finds the prompt
        // and the answer: the KV of 1299 tokens was computed (the last token's is not), 81 full blocks = 1296 tokens.
        var h = new EngineHarness();
        int[] prompt = Prompt(1000);
        int[] answer = Prompt(300, 50_000);
        var promptHashes = PrefixHashes.Chain(prompt, 16);
        h.Engine.Submit(new InferenceRequest
        {
            RequestId = "turn1",
            PromptTokens = prompt.Length,
            MaxTokens = 300,
            PrefixHashes = promptHashes,
            HashesWithOutput = n => PrefixHashes.Extend(promptHashes, [.. prompt[(promptHashes.Length * 16)..], .. answer[..(int)n]], 16),
        });
        h.Run("turn1");

        Submit(h, "turn2", [.. prompt, .. answer, .. Prompt(200, 90_000)]);
        var turn2 = h.Run("turn2");

        Assert.Equal((CacheState.Hot, 1296L), (turn2.CacheState, turn2.CachedTokens));
        Near(YiOnA100.Prefill(1500 - 1296, 1296), turn2.TimeToFirstToken);
        Assert.Equal(0, h.Engine.Snapshot().HbmBlocksUsed);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Finish_OutputHashesThrowOrDoNotContinueThePrompt_FaultReportedPromptBlocksStillCached(bool throws)
    {
        var h = new EngineHarness();
        var faults = new List<Exception>();
        h.Engine.OnObserverFault = faults.Add;
        int[] prompt = Prompt(1000);
        h.Engine.Submit(new InferenceRequest
        {
            RequestId = "a",
            PromptTokens = prompt.Length,
            MaxTokens = 300,
            PrefixHashes = PrefixHashes.Chain(prompt, 16),
            HashesWithOutput = n => throws ? throw new InvalidOperationException("face bug") : PrefixHashes.Chain(Prompt(1300, 7), 16),
        });
        h.Run("a");

        Submit(h, "b", [.. prompt, .. Prompt(300, 50_000)]);

        Assert.Single(faults);
        Assert.Equal(992, h.Run("b").CachedTokens);
        Assert.Equal(0, h.Engine.Snapshot().HbmBlocksUsed);
    }

    [Fact]
    public void Extend_OverTheRest_EqualsTheChainOfTheWhole()
    {
        int[] whole = Prompt(1000);
        var head = PrefixHashes.Chain(whole.AsSpan(0, 500), 16);

        Assert.Equal(PrefixHashes.Chain(whole, 16), PrefixHashes.Extend(head, whole.AsSpan(head.Length * 16), 16));
    }

    [Fact]
    public void MakeRoom_HbmFull_FreeCachedBlocksEvictedLeastRecentlyUsedFirst()
    {
        // Fill the cache with an old and a recent prompt, then a long request that needs HBM beyond what is free:
        // the old prompt's blocks go first (from its end), the recent prompt stays whole.
        var h = new EngineHarness();
        long capacity = h.Engine.Snapshot().HbmBlocksTotal;
        int[] old = Prompt(20_000);
        int[] recent = Prompt(20_000, 500_000);
        Submit(h, "old", old, maxTokens: 1);
        h.Run("old");
        Submit(h, "recent", recent, maxTokens: 1);
        h.Run("recent");
        long cached = 2 * (20_000 / 16);
        Assert.Equal((0L, cached), (h.Engine.Snapshot().HbmBlocksUsed, h.Engine.Snapshot().PrefixBlocksFree));

        // A request without hashes (so nothing of it is cached after) that needs 100 blocks more than are free:
        // 100 blocks of the old prompt must go, from its end.
        long tokens = ((capacity - cached) + 100) * 16;
        Assert.True(h.Engine.Submit(new InferenceRequest { RequestId = "big", PromptTokens = tokens - 1, MaxTokens = 1 }).IsAccepted);
        h.Run("big");

        Submit(h, "recent-again", recent, maxTokens: 1);
        h.Run("recent-again");
        Submit(h, "old-again", old, maxTokens: 1);
        h.Run("old-again");
        Assert.Equal(20_000 - 16, h.Results["recent-again"].CachedTokens);
        Assert.Equal((1250 - 100) * 16, h.Results["old-again"].CachedTokens);
    }

    [Fact]
    public void Preempted_PrefixSequence_RecomputedAndItsBlocksReusedFromTheCache()
    {
        // Two long requests that cannot both hold their decode KV: the later one is preempted (recompute, as for
        // every prefix-cached sequence) and finds its own prompt blocks in the cache when it is admitted again.
        var h = new EngineHarness();
        Submit(h, "a", Prompt(30_000), maxTokens: 2000);
        Submit(h, "b", Prompt(30_000, 900_000), maxTokens: 2000);
        h.Run("b");

        var b = h.Results["b"];
        Assert.True(b.Preemptions > 0 || h.Results["a"].Preemptions > 0, "no preemption happened");
        Assert.Equal(2000, b.CompletionTokens);
        Assert.Equal(2000, h.Results["a"].CompletionTokens);
        Assert.Equal(0, h.Engine.Snapshot().HbmBlocksUsed);
    }
}
