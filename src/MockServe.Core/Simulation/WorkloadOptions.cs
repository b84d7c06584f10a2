using MockServe.Core.Workload;

namespace MockServe.Core.Simulation;

/// <summary>How a conversation's later turns reach the engine.</summary>
public enum ConversationMode
{
    /// <summary>As an explicit session (id u{user}-c{conversation}) whose history the engine keeps; the default.</summary>
    Session,

    /// <summary>
    /// As an OpenAI API client sends them: no session, each turn the whole conversation so far as its prompt, with
    /// prefix hashes over synthetic token ids, so that only automatic prefix caching finds the history again.
    /// </summary>
    Resend,
}

/// <summary>
/// A synthetic multi-turn workload: every user holds a conversation whose first turn sends the context and
/// whose later turns add a few tokens, with think time between turns; after the last turn the user closes the
/// session and starts a new conversation.
/// </summary>
public sealed record WorkloadOptions
{
    public int Users { get; init; } = 64;

    /// <summary>Tokens of the first turn's prompt.</summary>
    public long ContextTokens { get; init; } = 50_000;

    public int Turns { get; init; } = 5;

    /// <summary>New prompt tokens of each later turn, on top of the history.</summary>
    public long TurnTokens { get; init; } = 200;

    /// <summary>Mean think time between a turn's last token and the next turn; drawn uniformly in [0.5, 1.5) x mean.</summary>
    public double ThinkTimeSeconds { get; init; } = 5;

    public long OutputTokens { get; init; } = 256;

    /// <summary>
    /// When set, each conversation's first-turn prompt is drawn from it with the run's seeded source, and
    /// <see cref="ContextTokens"/> is unused; null keeps every conversation at <see cref="ContextTokens"/>.
    /// </summary>
    public ILengthDistribution? ContextLengths { get; init; }

    /// <summary>When set, each turn's output tokens are drawn from it; null keeps <see cref="OutputTokens"/>.</summary>
    public ILengthDistribution? OutputLengths { get; init; }

    /// <summary>The shortest first-turn prompt the workload sends, the one that must fit.</summary>
    public long MinContextTokens => ContextLengths?.Min ?? ContextTokens;

    /// <summary>The fewest output tokens a turn asks for.</summary>
    public long MinOutputTokens => OutputLengths?.Min ?? OutputTokens;

    /// <summary>Model seconds to simulate; no turn starts after it.</summary>
    public double DurationSeconds { get; init; } = 3600;

    public int Seed { get; init; } = 1;

    /// <summary>
    /// Open loop when above 0: new conversations arrive at this rate per model second (Poisson), each holding its
    /// turns and then leaving, and <see cref="Users"/> is unused. 0 is the closed loop of <see cref="Users"/> users.
    /// </summary>
    public double ArrivalRate { get; init; }

    /// <summary>How later turns reach the engine: a session (default) or the whole conversation resent.</summary>
    public ConversationMode Conversation { get; init; } = ConversationMode.Session;

    /// <summary>
    /// The first tokens of every conversation's first prompt that are the same for all users (a shared system prompt),
    /// part of its context. Only <see cref="ConversationMode.Resend"/> shares them (through the prefix cache); sessions
    /// never share KV, so in <see cref="ConversationMode.Session"/> they only count toward the context's length.
    /// </summary>
    public long SharedPrefixTokens { get; init; }

    /// <summary>The name <c>--conversation</c> takes for a mode.</summary>
    public static string ModeName(ConversationMode mode) => mode.ToString().ToLowerInvariant();

    /// <summary>The mode <c>--conversation</c> names; null for an unknown name.</summary>
    public static ConversationMode? ParseMode(string? name) => name switch
    {
        "session" => ConversationMode.Session,
        "resend" => ConversationMode.Resend,
        _ => null,
    };

    /// <summary>Model seconds at the start left out of the results: turns that arrive before it, and the GPU's time.</summary>
    public double WarmupSeconds { get; init; }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Users is < 1 or > 1_000_000)
        {
            errors.Add($"--users: must be between 1 and 1000000, got {Users}");
        }

        if (ContextTokens < 1)
        {
            errors.Add($"--context: must be at least 1 token, got {ContextTokens}");
        }

        if (Turns < 1)
        {
            errors.Add($"--turns: must be at least 1, got {Turns}");
        }

        if (TurnTokens < 1)
        {
            errors.Add($"--turn-tokens: must be at least 1, got {TurnTokens}");
        }

        if (OutputTokens < 1)
        {
            errors.Add($"--output-tokens: must be at least 1, got {OutputTokens}");
        }

        if (!(ThinkTimeSeconds >= 0) || double.IsInfinity(ThinkTimeSeconds))
        {
            errors.Add($"--think-time: must be zero or more seconds, got {ThinkTimeSeconds}");
        }

        if (!(DurationSeconds > 0) || DurationSeconds > 366 * 86400.0)
        {
            errors.Add($"--duration: must be more than 0 and at most a year, got {DurationSeconds} s");
        }

        if (!(ArrivalRate >= 0) || ArrivalRate > 1e6)
        {
            errors.Add($"--rate: must be between 0 and 1000000 conversations per second, got {ArrivalRate}");
        }

        if (!(WarmupSeconds >= 0) || WarmupSeconds >= DurationSeconds)
        {
            errors.Add($"--warmup: must be zero or more seconds and less than the duration ({DurationSeconds} s), got {WarmupSeconds} s");
        }

        if (!Enum.IsDefined(Conversation))
        {
            errors.Add($"--conversation: must be session or resend, got {Conversation}");
        }

        if (SharedPrefixTokens < 0 || SharedPrefixTokens > MinContextTokens)
        {
            errors.Add($"--shared-prefix: must be between 0 and the (shortest) first-turn context of {MinContextTokens} tokens, got {SharedPrefixTokens}");
        }

        return errors;
    }
}
