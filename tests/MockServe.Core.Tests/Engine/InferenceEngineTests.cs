using MockServe.Core.Engine;
using MockServe.Core.Profiles;

namespace MockServe.Core.Tests.Engine;

public class InferenceEngineTests
{
    private static void Near(double expected, double actual, double relative = 1e-9) =>
        Assert.True(Math.Abs(expected - actual) <= Math.Abs(expected) * relative, $"expected {expected:R}, got {actual:R}");

    [Fact]
    public void Submit_IdleServer_TtftIsPrefillTimeWithNoQueue()
    {
        var h = new EngineHarness();
        h.Submit("a", prompt: 2000, maxTokens: 1);

        var r = h.Run("a");

        Near(YiOnA100.Prefill(2000, 0), r.TimeToFirstToken);
        Assert.Equal(0, r.QueueSeconds, 12);
        Near(YiOnA100.Prefill(2000, 0), r.PrefillSeconds);
        Assert.Equal(CacheState.New, r.CacheState);
    }

    [Fact]
    public void Decode_SingleSequence_GapsEqualTheDecodeStepAndGrowWithContext()
    {
        var h = new EngineHarness();
        h.Submit("a", prompt: 1000, maxTokens: 6);
        h.Run("a");

        var t = h.TokenTimes("a");
        Assert.Equal(6, t.Length);
        for (int k = 1; k < t.Length; k++)
        {
            // Token k+1 feeds token k: the KV read holds the prompt plus k-1 earlier outputs.
            Near(YiOnA100.Decode(1000 + k - 1), t[k] - t[k - 1]);
        }

        Assert.True(t[5] - t[4] > t[2] - t[1]);
    }

    [Fact]
    public void Decode_LongerContext_StepIsLonger()
    {
        var shortRun = new EngineHarness();
        shortRun.Submit("a", prompt: 1000, maxTokens: 2);
        shortRun.Run("a");
        var longRun = new EngineHarness();
        longRun.Submit("a", prompt: 40_000, maxTokens: 2);
        longRun.Run("a");

        double shortGap = shortRun.TokenTimes("a")[1] - shortRun.TokenTimes("a")[0];
        double longGap = longRun.TokenTimes("a")[1] - longRun.TokenTimes("a")[0];

        Near(YiOnA100.Decode(40_000), longGap);
        Assert.True(longGap > shortGap * 1.1, $"{longGap} vs {shortGap}");
    }

    [Fact]
    public void Decode_BatchOfTwo_GapIsOneStepReadingBothCaches()
    {
        var h = new EngineHarness(options: new EngineOptions { Scheduler = SchedulingPolicies.PrefillFirst });
        h.Submit("a", prompt: 1000, maxTokens: 3);
        h.Submit("b", prompt: 1000, maxTokens: 3);
        h.Run("a");

        // b arrives while a prefills, prefills next, then both decode in the same steps.
        var a = h.TokenTimes("a");
        var b = h.TokenTimes("b");
        Assert.Equal(a[1..], b[1..]);
        // Weights read once for the batch, plus both sequences' KV; compute for two tokens stays below it.
        double memory = (YiOnA100.WeightBytes + (YiOnA100.KvPerToken * (1000 + 1000))) / YiOnA100.Bandwidth;
        Near(memory, b[1] - b[0]);
        Near(YiOnA100.Prefill(1000, 0) + memory, a[1] - a[0]);
    }

    [Fact]
    public void Admission_UserBeyondCapacity_WaitsThenEvictsTheIdleSessionToHost()
    {
        // KV capacity: 80 GiB - 68.78 GB of weights - 2 GiB reserve = 14,971,862,272 B = 3807 blocks of 16 tokens,
        // 60,912 tokens: one 50K user fits, a second does not.
        var h = new EngineHarness();
        h.SubmitAt(0, "a", prompt: 50_000, maxTokens: 100, session: "A");
        h.SubmitAt(0.01, "b", prompt: 50_000, maxTokens: 100, session: "B");

        var a = h.Run("a");
        var b = h.Results["b"];

        // A's session keeps 50,000 + 99 tokens of KV = 3132 blocks, swapped out over PCIe before B prefills.
        double swapBytes = Math.Ceiling(50_099 / 16.0) * YiOnA100.BlockBytes;
        var swapOut = h.Single(EngineEventKind.SwapOut, "A");
        Near(swapBytes, swapOut.Bytes);
        Near(swapBytes / YiOnA100.Pcie, swapOut.Duration);
        Near(a.FinishTime, swapOut.Time);
        Near(a.FinishTime - 0.01 + (swapBytes / YiOnA100.Pcie), b.QueueSeconds, 1e-7);
        Near(a.FinishTime + (swapBytes / YiOnA100.Pcie) + YiOnA100.Prefill(50_000, 0), b.FirstTokenTime, 1e-7);
        Assert.Equal(1, h.Engine.Snapshot().SessionsSwapped);
    }

    [Fact]
    public void Turn_HotSession_PrefillsOnlyNewTokens()
    {
        var h = new EngineHarness();
        h.Submit("t1", prompt: 1000, maxTokens: 10, session: "s");
        var first = h.Run("t1");
        // The session holds the prompt and the 9 outputs fed back so far: 1009 tokens.
        h.Submit("t2", prompt: 1000 + 10 + 50, maxTokens: 5, session: "s");
        var second = h.Run("t2");

        Assert.Equal(CacheState.Hot, second.CacheState);
        Assert.Equal(1009, second.CachedTokens);
        var chunk = h.Events.Single(e => e.Kind == EngineEventKind.PrefillChunk && e.Request!.RequestId == "t2");
        Assert.Equal(51, chunk.Count);
        Near(YiOnA100.Prefill(51, 1009), second.PrefillSeconds);
        Assert.True(second.PrefillSeconds < first.PrefillSeconds / 5);
    }

    [Fact]
    public void Turn_SwappedSession_PaysTheSwapInFirst()
    {
        var h = new EngineHarness();
        var a2 = ReturnAfterAnotherSession(h);

        Assert.Equal(CacheState.Host, a2.CacheState);
        Assert.Equal(50_099, a2.CachedTokens);
        double swapInBytes = Math.Ceiling(50_099 / 16.0) * YiOnA100.BlockBytes;
        Near(swapInBytes / YiOnA100.Pcie, a2.SwapInSeconds);
        var start = h.Events.Single(e => e.Kind == EngineEventKind.SwapInStart && e.Request?.RequestId == "a2");
        var end = h.Events.Single(e => e.Kind == EngineEventKind.SwapInEnd && e.Request?.RequestId == "a2");
        Near(swapInBytes / YiOnA100.Pcie, end.Time - start.Time);
        Near(YiOnA100.Prefill(11, 50_099), a2.PrefillSeconds);
    }

    [Fact]
    public void Turn_HostHoldsOnlyTheReturningSession_EvictedNeighbourIsDroppedInstead()
    {
        // 14 GB of host DDR holds one 50K session (3132 blocks x 3,932,160 B = 12.3 GB), not two.
        var gpu = Presets.FindGpu("a100-80gb")! with { HostMemoryBytes = 14e9 };
        var h = new EngineHarness(new Deployment { Model = Presets.FindModel("yi-34b")!, Gpu = gpu });
        var a2 = ReturnAfterAnotherSession(h);

        Assert.Equal(CacheState.Host, a2.CacheState);
        Assert.Equal(50_099, a2.CachedTokens);
        Assert.Equal("B", h.Single(EngineEventKind.Dropped).SessionId);
        Assert.Equal(0, h.Engine.Snapshot().HostBlocksUsed);
    }

    [Fact]
    public void Turn_DroppedSession_IsAMissThatRecomputesTheHistory()
    {
        var h = new EngineHarness(options: new EngineOptions { SwapEnabled = false });
        var a2 = ReturnAfterAnotherSession(h);

        Assert.Equal(CacheState.Miss, a2.CacheState);
        Assert.Equal(0, a2.CachedTokens);
        Assert.Equal(50_099, a2.RecomputedTokens);
        Near(YiOnA100.Prefill(50_110, 0), a2.PrefillSeconds);
        Assert.DoesNotContain(h.Events, e => e.Kind == EngineEventKind.SwapOut);
    }

    [Fact]
    public void Cancel_MidDecode_FreesKvAtOnce()
    {
        var h = new EngineHarness();
        h.Submit("a", prompt: 50_000, maxTokens: 1000, session: "s");
        h.Clock.RunUntil(20); // prefill of 50K takes about 17.9 s
        Assert.True(h.Engine.Snapshot().HbmBlocksUsed > 0);

        Assert.True(h.Engine.Cancel("a"));

        var snap = h.Engine.Snapshot();
        Assert.Equal(0, snap.HbmBlocksUsed);
        Assert.Equal(0, snap.Running);
        Assert.Equal(FinishReason.Cancelled, h.Results["a"].FinishReason);
        h.Clock.RunUntilIdle();
        Assert.Equal(h.Results["a"].CompletionTokens, h.TokenTimes("a").Length);
    }

    [Fact]
    public void Cancel_MidPrefill_FreesKvAndEmitsNoToken()
    {
        var h = new EngineHarness(options: new EngineOptions { Scheduler = SchedulingPolicies.PrefillFirst });
        h.Submit("a", prompt: 50_000, maxTokens: 10);
        h.Clock.RunUntil(5);

        Assert.True(h.Engine.Cancel("a"));
        h.Clock.RunUntilIdle();

        Assert.Equal(0, h.Engine.Snapshot().HbmBlocksUsed);
        Assert.Empty(h.TokenTimes("a"));
        Assert.False(h.Engine.Cancel("a"));
    }

    [Fact]
    public void CloseSession_AfterSwapsAndPreemptions_KvReturnsToZero()
    {
        var h = new EngineHarness();
        for (int i = 0; i < 4; i++)
        {
            h.SubmitAt(i * 0.5, $"r{i}", prompt: 20_000 + (i * 1000), maxTokens: 500, session: $"s{i}");
        }

        h.Clock.RunUntilIdle();
        for (int i = 0; i < 4; i++)
        {
            h.Submit($"again{i}", prompt: 21_000 + (i * 1000), maxTokens: 50, session: $"s{i}");
        }

        h.Clock.RunUntil(h.Clock.Now + 3);
        Assert.True(h.Engine.Snapshot().HbmBlocksUsed > 0);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(h.Engine.CloseSession($"s{i}"));
        }

        h.Clock.RunUntilIdle();
        var snap = h.Engine.Snapshot();
        Assert.Equal(0, snap.HbmBlocksUsed);
        Assert.Equal(0, snap.HostBlocksUsed);
        Assert.Equal(0, snap.SessionsTotal);
        Assert.False(h.Engine.CloseSession("s0"));
    }

    [Theory]
    [InlineData(PreemptionPolicies.Swap)]
    [InlineData(PreemptionPolicies.Recompute)]
    public void Decode_RunningSequencesOutgrowHbm_LatestIsPreempted(string mode)
    {
        // Two 30K prompts fit (2 x 1875 of 3807 blocks) but 31,000 tokens each (2 x 1938) do not.
        var h = new EngineHarness(options: new EngineOptions { Preemption = mode });
        h.Submit("a", prompt: 30_000, maxTokens: 1000);
        h.Submit("b", prompt: 30_000, maxTokens: 1000);

        h.Clock.RunUntilIdle();

        var preempted = h.Events.First(e => e.Kind == EngineEventKind.Preempted);
        Assert.Equal("b", preempted.Request!.RequestId);
        Assert.Equal(mode, preempted.Detail);
        Assert.Equal(1000, h.Results["a"].CompletionTokens);
        Assert.Equal(1000, h.Results["b"].CompletionTokens);
        Assert.True(h.Results["b"].Preemptions >= 1);
        Assert.Equal(0, h.Results["a"].Preemptions);
        Assert.Equal(mode == PreemptionPolicies.Recompute, h.Results["b"].RecomputedTokens > 0);
        Assert.Equal(0, h.Engine.Snapshot().HbmBlocksUsed);
        Assert.Equal(0, h.Engine.Snapshot().HostBlocksUsed);
    }

    [Fact]
    public void ChunkedPrefill_LongPromptMidStream_DoesNotStallOthersBeyondOneBudgetStep()
    {
        var gaps = MaxGapWhileLongPromptPrefills(SchedulingPolicies.ChunkedPrefill);

        // Llama 3.1 8B on H100: the longest step holds 4 decodes and a 2044-token chunk at up to 100K context.
        double attnPerPair = 2.0 * 32 * 32 * (128 + 128);
        double flops = (2 * 8.03e9 * 2048) + (attnPerPair * ((2044.0 * 100_000) + (2044.0 * 2045 / 2) + (4 * 4001.0)));
        double budgetStep = flops / 989e12;
        Assert.True(gaps < budgetStep, $"max gap {gaps} s, one budget step {budgetStep} s");
    }

    [Fact]
    public void PrefillFirst_LongPromptMidStream_StallsOthersForTheWholePrefill()
    {
        var gaps = MaxGapWhileLongPromptPrefills(SchedulingPolicies.PrefillFirst);

        double attnPerPair = 2.0 * 32 * 32 * (128 + 128);
        double prefill = ((2 * 8.03e9 * 100_000) + (attnPerPair * (100_000.0 * 100_001 / 2))) / 989e12;
        Assert.True(gaps >= prefill, $"max gap {gaps} s, 100K prefill {prefill} s");
    }

    [Fact]
    public void Submit_QueueFull_RefusedAtOnceWithTheLimit()
    {
        var h = new EngineHarness(options: new EngineOptions { MaxWaiting = 1 });
        Assert.True(h.Submit("a", 50_000, 10).IsAccepted);
        h.Clock.RunUntil(1);
        Assert.True(h.Submit("b", 50_000, 10).IsAccepted);

        var c = h.Submit("c", 50_000, 10);

        Assert.Equal(RejectReason.QueueFull, c.Reason);
        Assert.Contains("1 of 1", c.Message);
    }

    [Theory]
    [InlineData(0, 10, "prompt_tokens")]
    [InlineData(100, 0, "max_tokens")]
    [InlineData(199_990, 100, "200000")]
    public void Submit_InvalidCounts_RefusedNamingTheField(long prompt, long max, string expected)
    {
        var h = new EngineHarness();

        var r = h.Submit("a", prompt, max);

        Assert.Equal(RejectReason.InvalidArgument, r.Reason);
        Assert.Contains(expected, r.Message);
    }

    [Fact]
    public void Submit_BeyondKvCapacity_RefusedWithTheCapacity()
    {
        var h = new EngineHarness();

        var r = h.Submit("a", 100_000, 100);

        Assert.Equal(RejectReason.ExceedsKvCapacity, r.Reason);
        Assert.Contains("60912 tokens", r.Message); // 3807 blocks x 16
    }

    [Fact]
    public void Submit_SessionWithTurnInFlight_IsRefused()
    {
        var h = new EngineHarness();
        h.Submit("a", 1000, 10, session: "s");

        var r = h.Submit("b", 1000, 10, session: "s");

        Assert.Equal(RejectReason.SessionBusy, r.Reason);
    }

    [Fact]
    public void Session_IdlePastTtl_ExpiresAndFreesKv()
    {
        var h = new EngineHarness(options: new EngineOptions { SessionTtlSeconds = 100 });
        h.Submit("a", 1000, 10, session: "s");
        var r = h.Run("a");
        Assert.True(h.Engine.HasSession("s"));

        h.Clock.RunUntil(r.FinishTime + 150);

        Assert.False(h.Engine.HasSession("s"));
        Assert.Equal(0, h.Engine.Snapshot().HbmBlocksUsed);
    }

    [Fact]
    public void Session_IdleExactlyOneTtl_IsGoneThenAndNotBefore()
    {
        var h = new EngineHarness(options: new EngineOptions { SessionTtlSeconds = 100 });
        h.Submit("a", 1000, 10, session: "s");
        var r = h.Run("a");

        h.Clock.RunUntil(r.FinishTime + 99.999);
        Assert.True(h.Engine.HasSession("s"));
        Assert.Equal(1, h.Engine.Snapshot().SessionsResident);
        h.Clock.RunUntil(r.FinishTime + 100);

        // Expiry is exact: a TTL after the turn ended, whatever else happens in between.
        Assert.Equal(0, h.Engine.Snapshot().SessionsTotal);
        Assert.False(h.Engine.HasSession("s"));
    }

    [Fact]
    public void Submit_StopAfterTokens_FinishesWithStop()
    {
        var h = new EngineHarness();
        h.Engine.Submit(new InferenceRequest { RequestId = "a", PromptTokens = 100, MaxTokens = 50, StopAfterTokens = 7 });

        var r = h.Run("a");

        Assert.Equal(FinishReason.Stop, r.FinishReason);
        Assert.Equal(7, r.CompletionTokens);
    }

    [Fact]
    public void Stop_MidDecode_FinishesWithStopAndTheSessionKeepsItsKv()
    {
        var h = new EngineHarness();
        h.Submit("a", prompt: 1000, maxTokens: 100, session: "s");
        h.Clock.RunUntil(YiOnA100.Prefill(1000, 0) + (4.5 * YiOnA100.Decode(1000)));

        Assert.True(h.Engine.Stop("a"));

        var r = h.Results["a"];
        Assert.Equal(FinishReason.Stop, r.FinishReason);
        Assert.Equal(5, r.CompletionTokens);
        // The session keeps prompt + 4 fed-back outputs: ceil(1004 / 16) = 63 blocks.
        Assert.Equal(63, h.Engine.Snapshot().HbmBlocksUsed);
        Assert.Equal(63, h.Engine.Snapshot().HbmBlocksIdle);
        h.Submit("b", prompt: 1100, maxTokens: 1, session: "s");
        Assert.Equal(CacheState.Hot, h.Run("b").CacheState);
    }

    /// <summary>
    /// Session A's 50K turn, then session B's, which evicts A from HBM (one 50K session fills the A100); then A's
    /// second turn (50,099 tokens of history + 11 new), which evicts B in turn.
    /// </summary>
    private static RequestResult ReturnAfterAnotherSession(EngineHarness h)
    {
        h.Submit("a1", prompt: 50_000, maxTokens: 100, session: "A");
        h.Run("a1");
        h.Submit("b1", prompt: 50_000, maxTokens: 100, session: "B");
        h.Run("b1");
        h.Submit("a2", prompt: 50_110, maxTokens: 10, session: "A");
        return h.Run("a2");
    }

    private static double MaxGapWhileLongPromptPrefills(string scheduler)
    {
        var llama = new Deployment { Model = Presets.FindModel("llama-3.1-8b")!, Gpu = Presets.FindGpu("h100-sxm")! };
        var h = new EngineHarness(llama, new EngineOptions { Scheduler = scheduler });
        for (int i = 0; i < 4; i++)
        {
            h.Submit($"u{i}", prompt: 1000, maxTokens: 3000);
        }

        h.SubmitAt(1.0, "long", prompt: 100_000, maxTokens: 1);
        h.Clock.RunUntilIdle();

        double longDone = h.Results["long"].FinishTime;
        double worst = 0;
        for (int i = 0; i < 4; i++)
        {
            var t = h.TokenTimes($"u{i}");
            Assert.True(t[^1] > longDone, "the users must still be decoding when the long prompt finishes");
            for (int k = 1; k < t.Length; k++)
            {
                if (t[k] >= 1.0)
                {
                    worst = Math.Max(worst, t[k] - t[k - 1]);
                }
            }
        }

        return worst;
    }
}
