using MockServe.Core.Engine;

namespace MockServe.Core.Tests.Engine;

/// <summary>
/// EngineOptions.MaxSessions on Yi-34B and one A100 (the default deployment): 16-token blocks of
/// 16 x 245,760 B = 3,932,160 B, 3807 of them in HBM.
/// </summary>
public class SessionLimitTests
{
    private const double BlockBytes = 16 * YiOnA100.KvPerToken;

    [Fact]
    public void Submit_NewSessionAtTheLimit_EvictsTheLeastRecentlyUsedIdleSessionAndFreesItsHbm()
    {
        var h = new EngineHarness(options: new EngineOptions { MaxSessions = 3 });
        // Each first turn keeps 1000 + 9 fed-back outputs = 1009 tokens: ceil(1009 / 16) = 64 blocks.
        Turn(h, "a1", 1000, "A");
        Turn(h, "b1", 1000, "B");
        Turn(h, "c1", 1000, "C");
        // A's second turn makes B the least recently used: A now keeps 1060 + 9 = 1069 tokens, 67 blocks.
        Turn(h, "a2", 1060, "A");
        Assert.Equal(64 + 64 + 67, h.Engine.Snapshot().HbmBlocksUsed);

        Turn(h, "d1", 1000, "D");

        var evicted = h.Single(EngineEventKind.SessionEvicted);
        Assert.Equal("B", evicted.SessionId);
        Assert.Equal("limit", evicted.Detail);
        Assert.Equal(1009, evicted.Count);
        Assert.Equal(64 * BlockBytes, evicted.Bytes);
        Assert.False(h.Engine.HasSession("B"));
        Assert.True(h.Engine.HasSession("A"));
        Assert.True(h.Engine.HasSession("C"));
        var snap = h.Engine.Snapshot();
        // B's 64 blocks freed; C 64, A 67 and D 64 held.
        Assert.Equal(64 + 67 + 64, snap.HbmBlocksUsed);
        Assert.Equal(3, snap.SessionsTotal);
    }

    [Fact]
    public void Submit_LeastRecentlyUsedSessionOnHost_EvictionFreesItsHostBlocks()
    {
        var h = new EngineHarness(options: new EngineOptions { MaxSessions = 2 });
        // A keeps 50,099 tokens (3132 blocks); B's 50K turn does not fit beside it, so A is swapped to host.
        Turn(h, "a1", 50_000, "A", maxTokens: 100);
        Turn(h, "b1", 50_000, "B", maxTokens: 100);
        Assert.Equal(3132, h.Engine.Snapshot().HostBlocksUsed);

        Turn(h, "c1", 1000, "C", maxTokens: 1);

        var evicted = h.Single(EngineEventKind.SessionEvicted);
        Assert.Equal("A", evicted.SessionId);
        Assert.Equal(50_099, evicted.Count);
        Assert.Equal(3132 * BlockBytes, evicted.Bytes);
        var snap = h.Engine.Snapshot();
        Assert.Equal(0, snap.HostBlocksUsed);
        Assert.Equal(0, snap.SessionsSwapped);
        // B keeps 3132 blocks, C its 1000-token prompt: ceil(1000 / 16) = 63.
        Assert.Equal(3132 + 63, snap.HbmBlocksUsed);
    }

    [Fact]
    public void Submit_EvictedSessionsAndTheRestClosed_KvLedgerReturnsToZero()
    {
        var h = new EngineHarness(options: new EngineOptions { MaxSessions = 1 });
        Turn(h, "a1", 50_000, "A", maxTokens: 100);
        Turn(h, "b1", 2000, "B");
        Turn(h, "c1", 3000, "C");

        Assert.True(h.Engine.CloseSession("C"));

        Assert.Equal(["A", "B"], h.Events.Where(e => e.Kind == EngineEventKind.SessionEvicted).Select(e => e.SessionId));
        var snap = h.Engine.Snapshot();
        Assert.Equal(0, snap.HbmBlocksUsed);
        Assert.Equal(0, snap.HostBlocksUsed);
        Assert.Equal(0, snap.SessionsTotal);
    }

    [Fact]
    public void Submit_RefusePolicyAtTheLimit_RefusesTheNewSessionNamingTheLimit()
    {
        var h = new EngineHarness(options: new EngineOptions { MaxSessions = 2, SessionLimitPolicy = SessionLimitPolicies.Refuse });
        Turn(h, "a1", 1000, "A");
        Turn(h, "b1", 1000, "B");

        var refused = h.Submit("c1", 1000, 10, session: "C");

        Assert.Equal(RejectReason.SessionLimit, refused.Reason);
        Assert.Equal("session_id", refused.Field);
        Assert.Equal(
            "'C' is a new session and the server holds its limit of 2 sessions (MockServe:Engine:MaxSessions); "
            + "the policy refuse (MockServe:Engine:SessionLimitPolicy) evicts none",
            refused.Problem);
        Assert.True(h.Engine.HasSession("A"));
        Assert.True(h.Engine.HasSession("B"));
        Assert.False(h.Engine.HasSession("C"));
        Assert.DoesNotContain(h.Events, e => e.Kind == EngineEventKind.SessionEvicted);
    }

    [Fact]
    public void Submit_RefusePolicyAtTheLimit_HeldSessionsAndOneOffRequestsStillServed()
    {
        var h = new EngineHarness(options: new EngineOptions { MaxSessions = 2, SessionLimitPolicy = SessionLimitPolicies.Refuse });
        Turn(h, "a1", 1000, "A");
        Turn(h, "b1", 1000, "B");

        Assert.True(h.Submit("a2", 1060, 10, session: "A").IsAccepted);
        Assert.True(h.Submit("x", 1000, 10).IsAccepted);
    }

    [Fact]
    public void Submit_EveryHeldSessionBusy_NewSessionRefusedUnderEvictLru()
    {
        var h = new EngineHarness(options: new EngineOptions { MaxSessions = 2 });
        Assert.True(h.Submit("a1", 1000, 10, session: "A").IsAccepted);
        Assert.True(h.Submit("b1", 1000, 10, session: "B").IsAccepted);

        var refused = h.Submit("c1", 1000, 10, session: "C");

        Assert.Equal(RejectReason.SessionLimit, refused.Reason);
        Assert.Equal(
            "session_id: 'C' is a new session and the server holds its limit of 2 sessions (MockServe:Engine:MaxSessions) and none is idle",
            refused.Message);
        Assert.False(h.Engine.HasSession("C"));
    }

    [Fact]
    public void Submit_HeldSessionGoesIdle_NewSessionThenAccepted()
    {
        var h = new EngineHarness(options: new EngineOptions { MaxSessions = 2 });
        h.Submit("a1", 1000, 10, session: "A");
        h.Submit("b1", 1000, 10, session: "B");
        Assert.False(h.Submit("c1", 1000, 10, session: "C").IsAccepted);
        h.Run("b1");

        Assert.True(h.Submit("c2", 1000, 10, session: "C").IsAccepted);

        // A finished first (both turns ran in one batch, A admitted first), so A is the least recently used.
        Assert.Equal("A", h.Single(EngineEventKind.SessionEvicted).SessionId);
    }

    [Fact]
    public void Turn_EvictedSessionReturns_StartsWithNoHistoryAndPrefillsTheWholePrompt()
    {
        var h = new EngineHarness(options: new EngineOptions { MaxSessions = 1 });
        Turn(h, "a1", 1000, "A");
        Turn(h, "b1", 1000, "B");

        var a2 = Turn(h, "a2", 1060, "A");

        Assert.Equal(CacheState.New, a2.CacheState);
        Assert.Equal(0, a2.CachedTokens);
        Assert.Equal(1060, h.Events.Where(e => e.Kind == EngineEventKind.PrefillChunk && e.Request!.RequestId == "a2").Sum(e => e.Count));
        Near(YiOnA100.Prefill(1060, 0), a2.PrefillSeconds);
    }

    [Fact]
    public void Submit_HeldSessionExpired_TakesTheRoomWithoutAnEviction()
    {
        var h = new EngineHarness(options: new EngineOptions { MaxSessions = 1, SessionTtlSeconds = 100 });
        var a1 = Turn(h, "a1", 1000, "A");
        h.Clock.RunUntil(a1.FinishTime + 100);

        Assert.True(h.Submit("b1", 1000, 10, session: "B").IsAccepted);

        Assert.DoesNotContain(h.Events, e => e.Kind == EngineEventKind.SessionEvicted);
    }

    [Fact]
    public void Validate_MaxSessionsAndPolicyOutOfRange_NameTheSetting()
    {
        var errors = new EngineOptions { MaxSessions = 0, SessionLimitPolicy = "drop-oldest" }.Validate();

        Assert.Equal(
            [
                "MaxSessions: must be between 1 and 10000000, got 0",
                "SessionLimitPolicy: unknown policy 'drop-oldest', expected one of evict-lru, refuse",
            ],
            errors.Select(e => e.ToString()));
    }

    private static RequestResult Turn(EngineHarness h, string id, long prompt, string session, long maxTokens = 10)
    {
        Assert.True(h.Submit(id, prompt, maxTokens, session).IsAccepted, $"{id} refused");
        return h.Run(id);
    }

    private static void Near(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= Math.Abs(expected) * 1e-9, $"expected {expected:R}, got {actual:R}");
}
