using System.Text;

namespace MockServe.LoadTests.Workload;

/// <summary>
/// One user's conversations, turn by turn. Every turn's prompt is the whole conversation so far (shared
/// prefix, each earlier turn's message and output, then the new message), so a server that keeps the session's
/// KV only prefills what is new (FIELD-NOTES §2). After the drawn number of turns the conversation ends, the
/// caller closes its session, and the next turn starts a new conversation with a new session id.
/// </summary>
/// <remarks>
/// Not thread-safe: one user's loop owns it. Call <see cref="Next"/>, send the turn, then <see cref="Complete"/>
/// with the output the server reported (or <see cref="Abandon"/> when the turn failed).
/// </remarks>
public sealed class Conversation
{
    private readonly WorkloadPlan _plan;
    private readonly string _sessionPrefix;
    private readonly Random _random;

    // The history after the shared prefix, one segment per earlier turn (its message and its output), oldest first.
    private readonly List<Segment> _history = [];
    private int _conversation = -1;
    private int _turnIndex;
    private long _turnsInConversation;
    private Segment? _planned;
    private long _plannedOutput;
    private Turn? _inFlight;
    private Segment _inFlightMessage;
    private OverflowCounts _overflows;

    internal Conversation(WorkloadPlan plan, string sessionPrefix, Random random)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionPrefix);
        ArgumentNullException.ThrowIfNull(random);
        _plan = plan;
        _sessionPrefix = sessionPrefix;
        _random = random;
    }

    /// <summary>Conversations started so far (each had its own session).</summary>
    public int ConversationsStarted => _conversation + 1;

    /// <summary>
    /// The session of the conversation in progress, which the caller closes when the run stops; null before the
    /// first turn and after a conversation ended.
    /// </summary>
    public string? OpenSessionId { get; private set; }

    /// <summary>How often this user's history outgrew the context limit, and what was done.</summary>
    public OverflowCounts Overflows => _overflows;

    /// <summary>The next turn to send: of the current conversation, or the first of a new one.</summary>
    public Turn Next()
    {
        if (_inFlight is not null)
        {
            throw new InvalidOperationException($"Turn {_inFlight.TurnIndex} of session {_inFlight.SessionId} is in flight: Complete or Abandon it first.");
        }

        long prefix = _plan.SharedPrefixTokens;
        Segment message;
        long output;
        if (_planned is { } planned)
        {
            message = planned;
            output = _plannedOutput;
            _planned = null;
        }
        else
        {
            _conversation++;
            _turnIndex = 0;
            _history.Clear();
            _turnsInConversation = _plan.Turns.Sample(_random);
            long context = Math.Max(_plan.Context.Sample(_random), prefix + 1);
            message = NewSegment(context - prefix);
            output = _plan.Output.Sample(_random);
        }

        output = FitOutput(output);
        long droppedBefore = _overflows.DroppedTokens;
        message = Fit(message, output);

        string? text = null;
        if (_plan.Text is not null)
        {
            var builder = new StringBuilder(_plan.SharedPrefixText);
            foreach (var segment in _history)
            {
                builder.Append(segment.Text);
            }

            text = builder.Append(message.Text).ToString();
        }

        _inFlightMessage = message;
        _inFlight = new Turn(
            $"{_sessionPrefix}-{_conversation}",
            _conversation,
            _turnIndex,
            prefix + HistoryTokens + message.Tokens,
            message.Tokens,
            output,
            _plan.IgnoreEos,
            text,
            PromptCut: _overflows.DroppedTokens > droppedBefore);
        OpenSessionId = _inFlight.SessionId;
        return _inFlight;
    }

    /// <summary>
    /// Records the turn in flight as done with <paramref name="outputTokens"/> tokens generated (the server's
    /// usage count) and, with text prompts, the text streamed (null writes filler of that length). Returns the think
    /// time and whether the conversation is over, after its last turn or because the next would not fit under
    /// <see cref="ContextOverflowPolicy.End"/>.
    /// </summary>
    public TurnOutcome Complete(long outputTokens, string? outputText = null)
    {
        var turn = _inFlight ?? throw new InvalidOperationException("No turn is in flight: call Next first.");
        ArgumentOutOfRangeException.ThrowIfNegative(outputTokens);
        _inFlight = null;
        string? text = _plan.Text is null ? null : _inFlightMessage.Text + (outputText ?? _plan.Text.Generate(outputTokens, _random));
        _history.Add(new Segment(_inFlightMessage.Tokens + outputTokens, text));
        var think = _plan.ThinkTime.Next(_random, outputTokens);

        _turnIndex++;
        bool ended = _turnIndex >= _turnsInConversation;
        if (!ended)
        {
            var message = NewSegment(_plan.Message.Sample(_random));
            long output = _plan.Output.Sample(_random);
            if (_plan.OverflowPolicy == ContextOverflowPolicy.End && Excess(message.Tokens, FitOutput(output)) > 0)
            {
                _overflows = _overflows with { Ends = _overflows.Ends + 1 };
                ended = true;
            }
            else
            {
                _planned = message;
                _plannedOutput = output;
            }
        }

        OpenSessionId = ended ? null : turn.SessionId;
        return new TurnOutcome(think, ended, turn.SessionId);
    }

    /// <summary>
    /// Gives up the turn in flight (it failed): the conversation ends, since the server's copy of its history is
    /// unknown; the caller closes the session. The think time is drawn as after an empty output.
    /// </summary>
    public TurnOutcome Abandon()
    {
        var turn = _inFlight ?? throw new InvalidOperationException("No turn is in flight: call Next first.");
        _inFlight = null;
        _planned = null;
        OpenSessionId = null;
        return new TurnOutcome(_plan.ThinkTime.Next(_random, 0), true, turn.SessionId);
    }

    private long HistoryTokens => _history.Sum(s => s.Tokens);

    private Segment NewSegment(long tokens) => new(tokens, _plan.Text?.Generate(tokens, _random));

    /// <summary>Leaves room for the shared prefix and one prompt token under the limit.</summary>
    private long FitOutput(long output) =>
        _plan.ContextLimit is { } limit ? Math.Min(output, limit - _plan.SharedPrefixTokens - 1) : output;

    private long Excess(long messageTokens, long output) =>
        _plan.ContextLimit is { } limit ? _plan.SharedPrefixTokens + HistoryTokens + messageTokens + output - limit : 0;

    /// <summary>Applies the overflow policy so that prompt + output fits the limit; returns the message as kept.</summary>
    private Segment Fit(Segment message, long output)
    {
        long excess = Excess(message.Tokens, output);
        if (excess <= 0)
        {
            return message;
        }

        if (_plan.OverflowPolicy == ContextOverflowPolicy.Slide && _history.Count > 0)
        {
            while (excess > 0 && _history.Count > 0)
            {
                excess -= _history[0].Tokens;
                _overflows = _overflows with { DroppedTokens = _overflows.DroppedTokens + _history[0].Tokens };
                _history.RemoveAt(0);
            }

            _overflows = _overflows with { Slides = _overflows.Slides + 1 };
            if (excess <= 0)
            {
                return message;
            }
        }

        // Truncate, a first turn longer than the limit, a slide that emptied the history, or (defensively) an End
        // whose check in Complete was passed: cut the oldest tokens after the shared prefix.
        _overflows = _overflows with { Truncations = _overflows.Truncations + 1, DroppedTokens = _overflows.DroppedTokens + excess };
        while (excess > 0 && _history.Count > 0)
        {
            var oldest = _history[0];
            if (oldest.Tokens <= excess)
            {
                excess -= oldest.Tokens;
                _history.RemoveAt(0);
            }
            else
            {
                _history[0] = Cut(oldest, excess);
                excess = 0;
            }
        }

        return excess > 0 ? Cut(message, excess) : message;
    }

    private Segment Cut(Segment segment, long tokens) =>
        new(segment.Tokens - tokens, segment.Text is null ? null : _plan.Text!.DropFront(segment.Text, tokens));

    private readonly record struct Segment(long Tokens, string? Text);
}
