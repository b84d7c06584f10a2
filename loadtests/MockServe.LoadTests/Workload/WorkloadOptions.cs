using System.Globalization;

using MockServe.Core.Workload;

namespace MockServe.LoadTests.Workload;

/// <summary>What a user does when its conversation no longer fits the model's context.</summary>
public enum ContextOverflowPolicy
{
    /// <summary>Drop the oldest whole turns (the shared prefix stays) until prompt + output fits.</summary>
    Slide,

    /// <summary>Cut the oldest tokens after the shared prefix until prompt + output fits.</summary>
    Truncate,

    /// <summary>Close the session and start a new conversation.</summary>
    End,
}

/// <summary>
/// The shape of the requests a scenario's users send (section <c>Workload</c> of a scenario file, and the
/// matching flags). Lengths are specs parsed by <see cref="LengthSpec"/>, think time by <see cref="ThinkTimeSpec"/>.
/// </summary>
public sealed class WorkloadOptions
{
    public const string SectionName = "Workload";

    /// <summary>The first turn's prompt in tokens, the shared prefix included.</summary>
    public string Context { get; set; } = "fixed:4000";

    /// <summary>Output tokens per turn (max_tokens).</summary>
    public string Output { get; set; } = "fixed:256";

    /// <summary>Tokens of each later turn's new user message.</summary>
    public string Message { get; set; } = "fixed:200";

    /// <summary>Turns per conversation; after the last the user closes its session and starts a new one.</summary>
    public string Turns { get; set; } = "fixed:1";

    /// <summary>The pause after each turn.</summary>
    public string ThinkTime { get; set; } = "none";

    /// <summary>Tokens of a system prompt common to every user, counted in each conversation's first prompt.</summary>
    public long SharedPrefixTokens { get; set; }

    /// <summary>The model's context in tokens (prompt + output); null when the client sets no limit.</summary>
    public long? ContextLimit { get; set; }

    /// <summary>What to do when a conversation outgrows <see cref="ContextLimit"/>.</summary>
    public ContextOverflowPolicy OverflowPolicy { get; set; } = ContextOverflowPolicy.Slide;

    /// <summary>Ask for exactly max_tokens tokens, so output lengths are the ones drawn.</summary>
    public bool IgnoreEos { get; set; } = true;

    /// <summary>Send prompts as text of about the drawn length instead of bare token counts.</summary>
    public bool TextPrompts { get; set; }

    /// <summary>With text prompts, characters per token; null writes about 0.75 words a token instead.</summary>
    public double? CharsPerToken { get; set; }

    /// <summary>A JSONL trace to replay instead of drawing lengths (one JSON object a line, read by <c>Trace.Load</c>); null for none.</summary>
    public string? Trace { get; set; }

    /// <summary>Multiplies the trace's times: 0.5 replays it twice as fast.</summary>
    public double TraceTimeScale { get; set; } = 1.0;

    /// <summary>
    /// Checks every setting (a histogram file is read); each error names the key, the value and the allowed
    /// range. <paramref name="section"/> prefixes the keys; relative histogram paths are taken from
    /// <paramref name="baseDirectory"/>.
    /// </summary>
    public IReadOnlyList<string> Validate(string section = SectionName, string? baseDirectory = null) =>
        Validate(name => $"{section}:{name}", baseDirectory);

    /// <summary>
    /// As <see cref="Validate(string, string?)"/>, with each error naming the key <paramref name="keyOf"/> gives the
    /// property (a flag such as <c>--context</c>, or a scenario file's key path).
    /// </summary>
    public IReadOnlyList<string> Validate(Func<string, string> keyOf, string? baseDirectory = null)
    {
        var errors = new List<string>();
        Parse(keyOf, baseDirectory, errors);
        return errors;
    }

    internal ParsedWorkload? Parse(Func<string, string> keyOf, string? baseDirectory, List<string> errors)
    {
        string Key(string name) => keyOf(name);
        ILengthDistribution? Length(string name, string spec) =>
            LengthSpec.TryParse(Key(name), spec, baseDirectory, out var d, out string? e) ? d : Error<ILengthDistribution>(e);
        T? Error<T>(string message)
            where T : class
        {
            errors.Add(message);
            return null;
        }

        var context = Length(nameof(Context), Context);
        var output = Length(nameof(Output), Output);
        var message = Length(nameof(Message), Message);
        var turns = Length(nameof(Turns), Turns);
        var think = ThinkTimeSpec.TryParse(Key(nameof(ThinkTime)), ThinkTime, out var t, out string? thinkError) ? t : Error<IThinkTime>(thinkError);

        if (SharedPrefixTokens < 0)
        {
            errors.Add($"{Key(nameof(SharedPrefixTokens))} is {SharedPrefixTokens}: it must be at least 0");
        }

        if (ContextLimit is { } limit && limit < SharedPrefixTokens + 2)
        {
            errors.Add($"{Key(nameof(ContextLimit))} is {limit}: it must be at least {nameof(SharedPrefixTokens)} + 2 = "
                + $"{SharedPrefixTokens + 2} (the prefix, one more prompt token and one output token), or unset for no limit");
        }

        if (!Enum.IsDefined(OverflowPolicy))
        {
            errors.Add($"{Key(nameof(OverflowPolicy))} is {OverflowPolicy}: allowed values are slide, truncate, end");
        }

        if (CharsPerToken is { } cpt && !(cpt > 0 && cpt <= 100))
        {
            errors.Add($"{Key(nameof(CharsPerToken))} is {cpt.ToString(CultureInfo.InvariantCulture)}: it must be above 0 and at most 100, or unset for 0.75 words a token");
        }

        if (!double.IsFinite(TraceTimeScale) || TraceTimeScale <= 0)
        {
            errors.Add($"{Key(nameof(TraceTimeScale))} is {TraceTimeScale.ToString(CultureInfo.InvariantCulture)}: it must be a finite number above 0");
        }

        if (Trace is not null && !File.Exists(baseDirectory is null ? Trace : Path.Combine(baseDirectory, Trace)))
        {
            errors.Add($"{Key(nameof(Trace))} is \"{Trace}\": no such file");
        }

        return errors.Count == 0
            ? new ParsedWorkload(context!, output!, message!, turns!, think!)
            : null;
    }
}

internal sealed record ParsedWorkload(
    ILengthDistribution Context,
    ILengthDistribution Output,
    ILengthDistribution Message,
    ILengthDistribution Turns,
    IThinkTime ThinkTime);
