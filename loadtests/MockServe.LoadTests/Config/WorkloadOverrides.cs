using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Config;

/// <summary>
/// Workload settings that a flag or a scenario file's <c>workload</c> map gives: each set one replaces the scenario's
/// own value, the unset ones (null) leave it. Keys and flags share their names: <c>context</c> is <c>--context</c>.
/// </summary>
public sealed record WorkloadOverrides
{
    public static WorkloadOverrides None { get; } = new();

    public string? Context { get; init; }

    public string? Message { get; init; }

    public string? Output { get; init; }

    public string? Turns { get; init; }

    public string? ThinkTime { get; init; }

    public long? SharedPrefix { get; init; }

    public long? ContextLimit { get; init; }

    public ContextOverflowPolicy? ContextPolicy { get; init; }

    /// <summary><c>prompt-format: text</c> is true, <c>tokens</c> false.</summary>
    public bool? TextPrompts { get; init; }

    public bool? IgnoreEos { get; init; }

    public string? Trace { get; init; }

    public double? TraceTimeScale { get; init; }

    /// <summary>This layer's values where set, else <paramref name="lower"/>'s (a flag over a file, a scenario over the file's top).</summary>
    public WorkloadOverrides Over(WorkloadOverrides? lower) => lower is null ? this : new()
    {
        Context = Context ?? lower.Context,
        Message = Message ?? lower.Message,
        Output = Output ?? lower.Output,
        Turns = Turns ?? lower.Turns,
        ThinkTime = ThinkTime ?? lower.ThinkTime,
        SharedPrefix = SharedPrefix ?? lower.SharedPrefix,
        ContextLimit = ContextLimit ?? lower.ContextLimit,
        ContextPolicy = ContextPolicy ?? lower.ContextPolicy,
        TextPrompts = TextPrompts ?? lower.TextPrompts,
        IgnoreEos = IgnoreEos ?? lower.IgnoreEos,
        Trace = Trace ?? lower.Trace,
        TraceTimeScale = TraceTimeScale ?? lower.TraceTimeScale,
    };

    /// <summary>A copy of <paramref name="options"/> with this layer's values put in.</summary>
    public WorkloadOptions ApplyTo(WorkloadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new WorkloadOptions
        {
            Context = Context ?? options.Context,
            Message = Message ?? options.Message,
            Output = Output ?? options.Output,
            Turns = Turns ?? options.Turns,
            ThinkTime = ThinkTime ?? options.ThinkTime,
            SharedPrefixTokens = SharedPrefix ?? options.SharedPrefixTokens,
            ContextLimit = ContextLimit ?? options.ContextLimit,
            OverflowPolicy = ContextPolicy ?? options.OverflowPolicy,
            TextPrompts = TextPrompts ?? options.TextPrompts,
            CharsPerToken = options.CharsPerToken,
            IgnoreEos = IgnoreEos ?? options.IgnoreEos,
            Trace = Trace ?? options.Trace,
            TraceTimeScale = TraceTimeScale ?? options.TraceTimeScale,
        };
    }

    /// <summary>
    /// The key of a <see cref="WorkloadOptions"/> property under <paramref name="prefix"/>: <c>--</c> names the flag
    /// (<c>--think-time</c>), <c>scenarios[0].workload.</c> the file's key.
    /// </summary>
    public static Func<string, string> KeyOf(string prefix) => property => prefix + property switch
    {
        nameof(WorkloadOptions.ThinkTime) => "think-time",
        nameof(WorkloadOptions.SharedPrefixTokens) => "shared-prefix",
        nameof(WorkloadOptions.ContextLimit) => "context-limit",
        nameof(WorkloadOptions.OverflowPolicy) => "context-policy",
        nameof(WorkloadOptions.TextPrompts) => "prompt-format",
        nameof(WorkloadOptions.IgnoreEos) => "ignore-eos",
        nameof(WorkloadOptions.CharsPerToken) => "chars-per-token",
        nameof(WorkloadOptions.TraceTimeScale) => "trace-time-scale",
        _ => property.ToLowerInvariant(),
    };

    /// <summary>This layer's own errors, checked on the default workload so each names this layer's key.</summary>
    public IReadOnlyList<string> Validate(string prefix, string? baseDirectory) =>
        ApplyTo(new WorkloadOptions()).Validate(KeyOf(prefix), baseDirectory);
}
