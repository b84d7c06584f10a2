using MockServe.Core.Cluster;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Core.Simulation;

namespace MockServe.Core.Tests.Simulation;

/// <summary>Conversations resent without a session (the OpenAI API's way), on the virtual clock: Yi-34B on one A100.</summary>
public class ResendConversationTests
{
    // One user, two turns a conversation: a 1000-token prompt, a 300-token answer, then 200 new tokens.
    private static readonly WorkloadOptions OneUser = new()
    {
        Users = 1,
        ContextTokens = 1000,
        Turns = 2,
        TurnTokens = 200,
        ThinkTimeSeconds = 1,
        OutputTokens = 300,
        DurationSeconds = 120,
        Seed = 3,
        Conversation = ConversationMode.Resend,
    };

    // 16 users of 45K-token contexts: two such contexts (90K) do not fit in the 60,912 tokens of KV.
    private static readonly WorkloadOptions LongContexts = new()
    {
        Users = 16,
        ContextTokens = 45_000,
        Turns = 4,
        DurationSeconds = 600,
        Conversation = ConversationMode.Resend,
    };

    private static Dictionary<string, RequestResult> Turns(WorkloadOptions workload)
    {
        var turns = new Dictionary<string, RequestResult>();
        new SimulationRunner(Presets.DefaultDeployment, new EngineOptions(), workload) { TurnMeasured = t => turns[t.Request.RequestId] = t }.Run();
        return turns;
    }

    private static string Trace(WorkloadOptions workload)
    {
        var trace = new StringWriter();
        new SimulationRunner(Presets.DefaultDeployment, new EngineOptions(), workload, new EventTraceWriter(trace)).Run();
        return trace.ToString();
    }

    [Fact]
    public void Run_ResendSecondTurn_FindsTheFirstTurnsPromptAndAnswerCachedInFullBlocks()
    {
        var turns = Turns(OneUser);

        // Turn 1 computed the KV of 1000 + 300 - 1 = 1299 tokens (not the last answer token's): 81 full blocks of 16,
        // 1296 tokens, which turn 2 (1500 tokens, a block fewer than it needs to prefill at least one) reuses.
        Assert.Equal((CacheState.New, 0L), (turns["u0-c0-t0"].CacheState, turns["u0-c0-t0"].CachedTokens));
        Assert.Equal((CacheState.Hot, 81L * 16), (turns["u0-c0-t1"].CacheState, turns["u0-c0-t1"].CachedTokens));
        Assert.Equal(1500, turns["u0-c0-t1"].Request.PromptTokens);
    }

    [Fact]
    public void Run_ResendNextConversation_SharesNoTokenWithTheLastOne()
    {
        var turns = Turns(OneUser);

        // The user's second conversation follows the first on an idle GPU whose cache still holds all of it.
        Assert.Equal((CacheState.New, 0L), (turns["u0-c1-t0"].CacheState, turns["u0-c1-t0"].CachedTokens));
    }

    [Fact]
    public void Run_ResendWithSharedPrefix_NextConversationReusesExactlyThePrefixBlocks()
    {
        var turns = Turns(OneUser with { SharedPrefixTokens = 600 });

        // 600 shared tokens hold 37 full blocks (592 tokens); the 38th mixes shared and own tokens.
        Assert.Equal((CacheState.Hot, 37L * 16), (turns["u0-c1-t0"].CacheState, turns["u0-c1-t0"].CachedTokens));
    }

    [Fact]
    public void Run_ResendWithSharedSystemPrompt_MoreUsersRunAtOnceThanWithoutSharing()
    {
        var alone = new SimulationRunner(Presets.DefaultDeployment, new EngineOptions(), LongContexts).Run();
        var shared = new SimulationRunner(Presets.DefaultDeployment, new EngineOptions(), LongContexts with { SharedPrefixTokens = 40_000 }).Run();

        // Without sharing one 45K context runs at a time. With a 40K system prompt held once, the 20,912 tokens left
        // hold (60,912 - 40,000) / (5,000 own + 256 output) = 3.98: at least 3 users' own tokens at once.
        Assert.Equal(1, alone.MaxRunning);
        Assert.True(shared.MaxRunning >= 3, $"max running {shared.MaxRunning}");
        Assert.True(shared.TtftSeconds.Mean < alone.TtftSeconds.Mean / 2, $"mean TTFT {shared.TtftSeconds.Mean} s shared, {alone.TtftSeconds.Mean} s alone");
    }

    [Fact]
    public void Run_SessionModeWithSharedPrefix_SameTraceAsWithout()
    {
        var sessions = LongContexts with { Conversation = ConversationMode.Session, DurationSeconds = 300 };

        // Sessions never share KV: a shared prefix only counts toward the context, which is the same length.
        Assert.Equal(Trace(sessions), Trace(sessions with { SharedPrefixTokens = 40_000 }));
        Assert.Equal(Trace(sessions), Trace(new WorkloadOptions { Users = 16, ContextTokens = 45_000, Turns = 4, DurationSeconds = 300 }));
    }

    [Fact]
    public void Run_ResendOnThreeReplicasPrefixAware_LaterTurnsFindTheirHistoryWhereRoundRobinLosesIt()
    {
        var workload = new WorkloadOptions
        {
            Users = 12,
            ContextTokens = 4000,
            Turns = 4,
            OutputTokens = 64,
            ThinkTimeSeconds = 2,
            DurationSeconds = 120,
            Conversation = ConversationMode.Resend,
        };
        var replicas = Enumerable.Repeat(Presets.DefaultDeployment, 3).ToList();

        var aware = new SimulationRunner(replicas, new EngineOptions(), workload, Routers.Create("prefix-aware")).Run();
        var roundRobin = new SimulationRunner(replicas, new EngineOptions(), workload, Routers.Create("round-robin")).Run();

        // Round robin sends a conversation's next turn to another replica (12 users on 3 replicas): a later turn there
        // finds nothing of it. Prefix-aware routing asks each replica's prefix cache and follows the history, except
        // for the few turns the load bound moves (as with sessions), so it misses several times less often.
        long awareMisses = aware.CacheStates["miss"], roundRobinMisses = roundRobin.CacheStates["miss"];
        Assert.True(roundRobinMisses >= 36, $"round robin: {roundRobinMisses} misses");
        Assert.True(awareMisses * 4 < roundRobinMisses, $"prefix-aware: {awareMisses} misses, round robin: {roundRobinMisses}");
    }

    [Fact]
    public void Validate_SharedPrefixLongerThanTheContext_NamesTheFlagAndTheValue()
    {
        var errors = (OneUser with { SharedPrefixTokens = 1001 }).Validate();

        Assert.Equal(["--shared-prefix: must be between 0 and the (shortest) first-turn context of 1000 tokens, got 1001"], errors);
    }
}
