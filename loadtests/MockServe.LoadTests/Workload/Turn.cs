using MockServe.Contracts.V1;

namespace MockServe.LoadTests.Workload;

/// <summary>One request of a conversation: what to send.</summary>
/// <param name="SessionId">Stable for every turn of one conversation.</param>
/// <param name="Conversation">Which of the user's conversations, from 0.</param>
/// <param name="TurnIndex">Which turn of the conversation, from 0.</param>
/// <param name="PromptTokens">The whole prompt: shared prefix, the history kept, and the new message.</param>
/// <param name="MessageTokens">The new user message (the first turn: the prompt after the shared prefix).</param>
/// <param name="MaxTokens">Output tokens to ask for.</param>
/// <param name="IgnoreEos">Ask for exactly <paramref name="MaxTokens"/>.</param>
/// <param name="Text">With text prompts, the prompt text of about <paramref name="PromptTokens"/> tokens; else null.</param>
/// <param name="PromptCut">
/// Slide or truncate dropped tokens to fit the context: the prompt no longer begins with the previous turn's prompt
/// and output, so a server that matches prompt prefixes reuses at most the shared prefix. A server that only counts
/// tokens per session (mockserve with token-count prompts) cannot tell, and still counts the history as cached.
/// </param>
public sealed record Turn(
    string SessionId,
    int Conversation,
    int TurnIndex,
    long PromptTokens,
    long MessageTokens,
    long MaxTokens,
    bool IgnoreEos,
    string? Text,
    bool PromptCut = false)
{
    /// <summary>The mockserve.v1 request for this turn.</summary>
    public GenerateRequest ToRequest(string requestId) =>
        Requests.Generate(requestId, SessionId, PromptTokens, Text, MaxTokens, IgnoreEos);
}

/// <summary>What follows a completed turn.</summary>
/// <param name="ThinkTime">The pause before the user's next turn.</param>
/// <param name="SessionEnded">The conversation is over: close <paramref name="SessionId"/> now.</param>
/// <param name="SessionId">The session of the turn just completed.</param>
public readonly record struct TurnOutcome(TimeSpan ThinkTime, bool SessionEnded, string SessionId);

/// <summary>How often conversations outgrew the context limit, by what was done about it.</summary>
/// <param name="Slides">Turns whose prompt dropped its oldest whole turns.</param>
/// <param name="Truncations">Turns whose prompt was cut to fit (a first turn too long for the limit is always cut).</param>
/// <param name="Ends">Conversations ended early because their next turn would not fit.</param>
/// <param name="DroppedTokens">History tokens dropped by slides and truncations.</param>
public readonly record struct OverflowCounts(long Slides, long Truncations, long Ends, long DroppedTokens)
{
    public static OverflowCounts operator +(OverflowCounts a, OverflowCounts b) =>
        new(a.Slides + b.Slides, a.Truncations + b.Truncations, a.Ends + b.Ends, a.DroppedTokens + b.DroppedTokens);
}

internal static class Requests
{
    public static GenerateRequest Generate(string requestId, string sessionId, long promptTokens, string? text, long maxTokens, bool ignoreEos)
    {
        var request = new GenerateRequest
        {
            RequestId = requestId,
            SessionId = sessionId,
            MaxTokens = maxTokens,
            IgnoreEos = ignoreEos,
        };
        if (text is null)
        {
            request.PromptTokens = promptTokens;
        }
        else
        {
            request.Text = text;
        }

        return request;
    }
}
