using MockServe.Contracts.V1;
using MockServe.Core.Engine;
using MockServe.Server.Text;

namespace MockServe.Server.Services;

/// <summary>A Generate request's prompt and output bounds, as the engine needs them.</summary>
/// <param name="PromptIsLowerBound">Counting the text stopped once it passed the model's context.</param>
/// <param name="PromptIds">The text's token ids, when they were asked for and the tokenizer has them.</param>
internal readonly record struct GenerateInput(long PromptTokens, long MaxTokens, bool TextPrompt, bool PromptIsLowerBound = false, int[]? PromptIds = null);

/// <summary>
/// The checks that belong to the mockserve.v1 protocol: ids, the prompt's form, min_tokens and stop sequences.
/// Token counts against the model's context and HBM are the engine's (<see cref="RequestLimits"/>), checked once
/// at submission; <see cref="ToApiField"/> names their fields as the request wrote them.
/// </summary>
internal static class GenerateValidation
{
    public const int MaxIdLength = 256;
    public const int MaxStopSequences = 16;

    /// <summary>
    /// Checks the request, counting a text prompt last because that costs the most: a text longer than
    /// <paramref name="maxPromptCharacters"/> is refused uncounted, and counting stops once it passes <paramref name="maxContext"/>.
    /// </summary>
    /// <exception cref="Grpc.Core.RpcException">INVALID_ARGUMENT naming the field, the value and the limit.</exception>
    /// <param name="encode">Encode a text prompt to token ids (for prefix caching) rather than only count it: the same work.</param>
    /// <exception cref="OperationCanceledException">The call ended while the text was counted.</exception>
    public static GenerateInput Validate(
        GenerateRequest r,
        IPromptTokenizer tokenizer,
        long defaultMaxTokens,
        int maxPromptCharacters,
        long maxContext,
        CancellationToken cancellationToken,
        bool encode = false)
    {
        if (r.RequestId.Length > MaxIdLength)
        {
            throw Errors.Invalid($"request_id: at most {MaxIdLength} characters, got {r.RequestId.Length}");
        }

        if (r.SessionId.Length > MaxIdLength)
        {
            throw Errors.Invalid($"session_id: at most {MaxIdLength} characters, got {r.SessionId.Length}");
        }

        bool text = r.PromptCase == GenerateRequest.PromptOneofCase.Text;
        if (!text && r.PromptCase != GenerateRequest.PromptOneofCase.PromptTokens)
        {
            throw Errors.Invalid("prompt: set either text or prompt_tokens");
        }

        if (text && r.Text.Length == 0)
        {
            throw Errors.Invalid("text: must not be empty");
        }

        if (text && r.Text.Length > maxPromptCharacters)
        {
            throw Errors.Invalid($"text: at most {maxPromptCharacters} characters, got {r.Text.Length}");
        }

        long max = r.HasMaxTokens ? r.MaxTokens : defaultMaxTokens;
        if (r.MinTokens < 0 || r.MinTokens > Math.Max(max, 0))
        {
            throw Errors.Invalid($"min_tokens: must be between 0 and max_tokens {max}, got {r.MinTokens}");
        }

        if (r.Stop.Count > MaxStopSequences)
        {
            throw Errors.Invalid($"stop: at most {MaxStopSequences} sequences, got {r.Stop.Count}");
        }

        foreach (string stop in r.Stop)
        {
            if (stop.Length is 0 or > StopSequenceMatcher.MaxLength)
            {
                throw Errors.Invalid($"stop: each sequence must be 1 to {StopSequenceMatcher.MaxLength} characters, got one of {stop.Length}");
            }
        }

        if (!text)
        {
            return new GenerateInput(r.PromptTokens, max, TextPrompt: false);
        }

        // Past the context the engine refuses the prompt whatever its exact length, so counting stops there.
        if (encode && tokenizer.Encode(r.Text, maxContext, cancellationToken) is { Length: > 0 } ids)
        {
            return new GenerateInput(ids.Length, max, TextPrompt: true, ids.Length > maxContext, ids);
        }

        var count = tokenizer.Count(r.Text, maxContext, cancellationToken);
        return new GenerateInput(count.Tokens, max, TextPrompt: true, count.IsLowerBound);
    }

    /// <summary>
    /// An engine refusal as the request wrote it: the engine names the prompt <c>prompt_tokens</c>, a request that
    /// sent text knows it as <c>text</c>, and a count that stopped early is only a lower bound.
    /// </summary>
    public static string ToApiMessage(string? field, string problem, GenerateInput input)
    {
        if (field is null)
        {
            return problem;
        }

        // The engine's prompt problem begins with the count: "200001 tokens, must be between 1 and ...".
        if (input.PromptIsLowerBound && field == RequestLimits.PromptTokens)
        {
            problem = "at least " + problem;
        }

        return $"{(input.TextPrompt ? field.Replace(RequestLimits.PromptTokens, "text", StringComparison.Ordinal) : field)}: {problem}";
    }
}
