using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Tests.Workload;

public class ConversationTests
{
    private static Conversation User(Action<WorkloadOptions>? configure = null, int seed = 1)
    {
        var options = new WorkloadOptions { Context = "fixed:1000", Output = "fixed:100", Message = "fixed:50", Turns = "fixed:3" };
        configure?.Invoke(options);
        return WorkloadPlan.Create(options, new Random(0)).NewConversation("u1", new Random(seed));
    }

    /// <summary>Five turns of 1000-token context, 50-token messages and 100-token outputs, under a limit of 1300.</summary>
    private static Conversation Limited(ContextOverflowPolicy policy) =>
        User(o => { o.Turns = "fixed:5"; o.ContextLimit = 1300; o.OverflowPolicy = policy; });

    /// <summary>Sends <paramref name="count"/> turns, completing all but the last with <paramref name="output"/> tokens.</summary>
    private static List<Turn> Play(Conversation user, int count, long output)
    {
        var turns = new List<Turn>();
        for (int i = 0; i < count; i++)
        {
            turns.Add(user.Next());
            if (i < count - 1)
            {
                user.Complete(output);
            }
        }

        return turns;
    }

    [Fact]
    public void Next_FirstTurn_PromptIsTheContext()
    {
        var turn = User().Next();

        Assert.Equal(new Turn("u1-0", 0, 0, 1000, 1000, 100, true, null), turn);
    }

    [Fact]
    public void Next_LaterTurns_PromptGrowsByPreviousOutputAndNewMessage()
    {
        var turns = Play(User(), 3, output: 80);
        var (second, third) = (turns[1], turns[2]);

        // 1000 + 80 output + 50 message = 1130; then 1130 + 80 + 50 = 1260.
        Assert.Equal(1130, second.PromptTokens);
        Assert.Equal(1260, third.PromptTokens);
        Assert.Equal(50, third.MessageTokens);
        Assert.Equal(2, third.TurnIndex);
    }

    [Fact]
    public void Next_SameConversation_SessionIdStable()
    {
        var turns = Play(User(), 2, output: 100);
        var (first, second) = (turns[0], turns[1]);

        Assert.Equal("u1-0", first.SessionId);
        Assert.Equal(first.SessionId, second.SessionId);
    }

    [Fact]
    public void Complete_LastTurn_EndsSessionAndNextStartsANewConversation()
    {
        var user = User();
        var outcomes = new List<TurnOutcome>();
        for (int i = 0; i < 3; i++)
        {
            user.Next();
            outcomes.Add(user.Complete(100));
        }

        var next = user.Next();

        Assert.Equal([false, false, true], outcomes.Select(o => o.SessionEnded));
        Assert.Equal("u1-0", outcomes[2].SessionId);
        Assert.Equal(new Turn("u1-1", 1, 0, 1000, 1000, 100, true, null), next);
        Assert.Equal(2, user.ConversationsStarted);
    }

    [Fact]
    public void OpenSessionId_ThroughAConversation_SetWhileItRunsAndClearedAtItsEnd()
    {
        var user = User(o => o.Turns = "fixed:2");
        string? before = user.OpenSessionId;
        user.Next();
        user.Complete(100);
        string? between = user.OpenSessionId;
        user.Next();
        user.Complete(100);

        Assert.Null(before);
        Assert.Equal("u1-0", between);
        Assert.Null(user.OpenSessionId);
    }

    [Fact]
    public void Next_SharedPrefix_CountedInTheFirstPrompt()
    {
        var turn = User(o => o.SharedPrefixTokens = 300).Next();

        // The context of 1000 includes the 300-token prefix, so the user's own part is 700.
        Assert.Equal(1000, turn.PromptTokens);
        Assert.Equal(700, turn.MessageTokens);
    }

    [Fact]
    public void Next_ContextShorterThanPrefix_RaisedToPrefixPlusOne()
    {
        var turn = User(o => { o.SharedPrefixTokens = 300; o.Context = "fixed:200"; }).Next();

        Assert.Equal(301, turn.PromptTokens);
    }

    [Fact]
    public void Next_SlidePolicy_DropsOldestTurnAndCounts()
    {
        var user = Limited(ContextOverflowPolicy.Slide);
        var turns = Play(user, 3, output: 100);
        var (second, third) = (turns[1], turns[2]);

        // Turn 1: 1000 + 100 + 50 = 1150, + 100 output = 1250 fits 1300. Turn 2 would be 1150 + 100 + 50 = 1300,
        // + 100 = 1400; dropping the oldest turn (1000 + 100 = 1100) leaves 150 + 50 = 200.
        Assert.Equal(1150, second.PromptTokens);
        Assert.Equal(200, third.PromptTokens);
        Assert.Equal([false, false, true], turns.Select(t => t.PromptCut));
        Assert.Equal(new OverflowCounts(Slides: 1, Truncations: 0, Ends: 0, DroppedTokens: 1100), user.Overflows);
    }

    [Fact]
    public void Next_TruncatePolicy_CutsPromptToFitAndCounts()
    {
        var user = Limited(ContextOverflowPolicy.Truncate);
        var turns = Play(user, 4, output: 100);
        var (third, fourth) = (turns[2], turns[3]);

        // Turn 2 would be 1300 + 100 over 1300: cut 100 to 1200. Turn 3: 1200 + 100 + 50 = 1350, cut 150 to 1200.
        Assert.Equal(1200, third.PromptTokens);
        Assert.Equal(1200, fourth.PromptTokens);
        Assert.Equal(new OverflowCounts(Slides: 0, Truncations: 2, Ends: 0, DroppedTokens: 250), user.Overflows);
    }

    [Fact]
    public void Complete_EndPolicy_EndsConversationWhenNextTurnWouldNotFit()
    {
        var user = Limited(ContextOverflowPolicy.End);
        user.Next();
        var first = user.Complete(100);
        user.Next();
        var second = user.Complete(100);
        var next = user.Next();

        // After turn 1 the next prompt would be 1150 + 100 + 50 = 1300, + 100 output = 1400 > 1300.
        Assert.False(first.SessionEnded);
        Assert.True(second.SessionEnded);
        Assert.Equal("u1-1", next.SessionId);
        Assert.Equal(1000, next.PromptTokens);
        Assert.Equal(new OverflowCounts(Slides: 0, Truncations: 0, Ends: 1, DroppedTokens: 0), user.Overflows);
    }

    [Fact]
    public void Next_FirstTurnOverLimit_TruncatedWhateverThePolicy()
    {
        var user = User(o => { o.Context = "fixed:2000"; o.ContextLimit = 1500; o.OverflowPolicy = ContextOverflowPolicy.End; });
        var turn = user.Next();

        // 1500 - 100 output = 1400 prompt tokens; 600 dropped.
        Assert.Equal(1400, turn.PromptTokens);
        Assert.Equal(new OverflowCounts(0, 1, 0, 600), user.Overflows);
    }

    [Fact]
    public void Next_OutputOverLimit_CappedToLeaveOnePromptTokenAfterThePrefix()
    {
        var turn = User(o => { o.Output = "fixed:5000"; o.ContextLimit = 1500; o.SharedPrefixTokens = 100; }).Next();

        // max_tokens = 1500 - 100 prefix - 1 = 1399; the prompt is what is left: 101.
        Assert.Equal(1399, turn.MaxTokens);
        Assert.Equal(101, turn.PromptTokens);
    }

    [Fact]
    public void Next_TurnInFlight_Throws()
    {
        var user = User();
        user.Next();

        Assert.Throws<InvalidOperationException>(user.Next);
    }

    [Fact]
    public void Abandon_TurnInFlight_EndsTheConversation()
    {
        var user = User();
        user.Next();
        var outcome = user.Abandon();

        Assert.True(outcome.SessionEnded);
        Assert.Equal("u1-1", user.Next().SessionId);
    }

    [Fact]
    public void Complete_ThinkTime_FollowsTheOutputRead()
    {
        var user = User(o => o.ThinkTime = "per-token:20ms");
        user.Next();

        // 250 tokens * 20 ms = 5 s.
        Assert.Equal(TimeSpan.FromSeconds(5), user.Complete(250).ThinkTime);
    }

    [Fact]
    public void Next_SameSeed_SameTurns()
    {
        static List<Turn> Run(int seed)
        {
            var user = User(o => { o.Context = "lognormal:2000,0.8"; o.Output = "uniform:10-500"; o.Turns = "uniform:1-4"; }, seed);
            var turns = new List<Turn>();
            for (int i = 0; i < 20; i++)
            {
                var turn = user.Next();
                turns.Add(turn);
                user.Complete(turn.MaxTokens);
            }

            return turns;
        }

        Assert.Equal(Run(42), Run(42));
        Assert.NotEqual(Run(42), Run(43));
    }

    [Fact]
    public void Next_TextPrompts_WordsAtThreeQuartersOfTheTokensAndPrefixShared()
    {
        static Conversation TextUser(int seed)
        {
            var options = new WorkloadOptions { Context = "fixed:400", SharedPrefixTokens = 100, TextPrompts = true };
            return WorkloadPlan.Create(options, new Random(0)).NewConversation($"u{seed}", new Random(seed));
        }

        var a = TextUser(1).Next();
        var b = TextUser(2).Next();
        string[] wordsA = a.Text!.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] wordsB = b.Text!.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // 100 prefix tokens * 0.75 = 75 words, then 300 * 0.75 = 225: 300 words; the first 75 are the same for both.
        Assert.Equal(300, wordsA.Length);
        Assert.Equal(wordsA.Take(75), wordsB.Take(75));
        Assert.NotEqual(wordsA.Skip(75), wordsB.Skip(75));
        Assert.Equal("text", a.ToRequest("r1").PromptCase.ToString().ToLowerInvariant());
    }

    [Fact]
    public void Next_TextPromptsWithCharsPerToken_LengthIsTokensTimesChars()
    {
        var options = new WorkloadOptions { Context = "fixed:1000", TextPrompts = true, CharsPerToken = 4 };
        var turn = WorkloadPlan.Create(options, new Random(0)).NewConversation("u", new Random(1)).Next();

        // 1000 tokens * 4 chars = 4000 chars.
        Assert.Equal(4000, turn.Text!.Length);
    }

    [Fact]
    public void ToRequest_TokenPrompt_SetsCountsSessionAndIgnoreEos()
    {
        var request = User().Next().ToRequest("r7");

        Assert.Equal("r7", request.RequestId);
        Assert.Equal("u1-0", request.SessionId);
        Assert.Equal(1000, request.PromptTokens);
        Assert.Equal(100, request.MaxTokens);
        Assert.True(request.IgnoreEos);
    }
}
