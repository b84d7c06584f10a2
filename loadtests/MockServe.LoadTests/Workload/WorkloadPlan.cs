using MockServe.Core.Workload;

namespace MockServe.LoadTests.Workload;

/// <summary>
/// A scenario's parsed workload: the distributions, the shared prefix and the context rules, built once and
/// shared by all its users, each of which gets its own <see cref="Conversation"/>.
/// </summary>
public sealed class WorkloadPlan
{
    private WorkloadPlan(WorkloadOptions options, ParsedWorkload parsed, string? sharedPrefixText, Trace? trace)
    {
        Trace = trace;
        Context = parsed.Context;
        Output = parsed.Output;
        Message = parsed.Message;
        Turns = parsed.Turns;
        ThinkTime = parsed.ThinkTime;
        SharedPrefixTokens = options.SharedPrefixTokens;
        ContextLimit = options.ContextLimit;
        OverflowPolicy = options.OverflowPolicy;
        IgnoreEos = options.IgnoreEos;
        Text = options.TextPrompts ? new PromptText(options.CharsPerToken) : null;
        SharedPrefixText = sharedPrefixText;
    }

    public ILengthDistribution Context { get; }

    public ILengthDistribution Output { get; }

    public ILengthDistribution Message { get; }

    public ILengthDistribution Turns { get; }

    public IThinkTime ThinkTime { get; }

    public long SharedPrefixTokens { get; }

    public long? ContextLimit { get; }

    public ContextOverflowPolicy OverflowPolicy { get; }

    public bool IgnoreEos { get; }

    /// <summary>With text prompts, the system prompt every user's first turn starts with; else null.</summary>
    public string? SharedPrefixText { get; }

    /// <summary>The trace to replay when <see cref="WorkloadOptions.Trace"/> is set; else null.</summary>
    public Trace? Trace { get; }

    internal PromptText? Text { get; }

    /// <summary>
    /// Validates <paramref name="options"/> (throwing <see cref="ArgumentException"/> with every error) and builds
    /// the workload; <paramref name="random"/> writes the shared prefix text, the same for every user. A trace is
    /// loaded here, so its bad lines (a <see cref="FormatException"/>) stop the run before any load starts.
    /// </summary>
    public static WorkloadPlan Create(WorkloadOptions options, Random random, string? baseDirectory = null, string section = WorkloadOptions.SectionName) =>
        Create(options, random, baseDirectory, name => $"{section}:{name}");

    /// <summary>As above, each error naming the key <paramref name="keyOf"/> gives the property (a flag, a file's key path).</summary>
    public static WorkloadPlan Create(WorkloadOptions options, Random random, string? baseDirectory, Func<string, string> keyOf)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(keyOf);
        ArgumentNullException.ThrowIfNull(random);
        var errors = new List<string>();
        var parsed = options.Parse(keyOf, baseDirectory, errors)
            ?? throw new ArgumentException(string.Join(Environment.NewLine, errors), nameof(options));
        string? prefixText = options.TextPrompts ? new PromptText(options.CharsPerToken).Generate(options.SharedPrefixTokens, random) : null;
        var trace = options.Trace is null
            ? null
            : Trace.Load(baseDirectory is null ? options.Trace : Path.Combine(baseDirectory, options.Trace), options.TraceTimeScale);
        return new WorkloadPlan(options, parsed, prefixText, trace);
    }

    /// <summary>
    /// A user's conversations: session ids are <paramref name="sessionPrefix"/>-0, -1, ... (make the prefix
    /// unique per user and run). <paramref name="random"/> is the user's own seeded source.
    /// </summary>
    public Conversation NewConversation(string sessionPrefix, Random random) => new(this, sessionPrefix, random);
}
