using MockServe.Contracts.V1;
using MockServe.Core.Engine;
using MockServe.Server.Text;

namespace MockServe.Server.Services;

/// <summary>A Generate request's prompt and output bounds, as the engine needs them.</summary>
internal readonly record struct GenerateInput(long PromptTokens, long MaxTokens, bool TextPrompt);

/// <summary>
/// The checks that belong to the mockserve.v1 protocol: ids, the prompt's form, min_tokens and stop sequences.
/// Token counts against the model's context and HBM are the engine's (<see cref="RequestLimits"/>), checked once
/// at submission; <see cref="ToApiField"/> names their fields as the request wrote them.
/// </summary>
internal static class GenerateValidation
{
    public const int MaxIdLength = 256;
    public const int MaxStopSequences = 16;

    /// <exception cref="Grpc.Core.RpcException">INVALID_ARGUMENT naming the field, the value and the limit.</exception>
    public static GenerateInput Validate(GenerateRequest r, IPromptTokenizer tokenizer, long defaultMaxTokens)
    {
        if (r.RequestId.Length > MaxIdLength)
        {
            throw Errors.Invalid($"request_id: at most {MaxIdLength} characters, got {r.RequestId.Length}");
        }

        if (r.SessionId.Length > MaxIdLength)
        {
            throw Errors.Invalid($"session_id: at most {MaxIdLength} characters, got {r.SessionId.Length}");
        }

        long prompt = r.PromptCase switch
        {
            GenerateRequest.PromptOneofCase.PromptTokens => r.PromptTokens,
            GenerateRequest.PromptOneofCase.Text when r.Text.Length > 0 => tokenizer.Count(r.Text),
            GenerateRequest.PromptOneofCase.Text => throw Errors.Invalid("text: must not be empty"),
            _ => throw Errors.Invalid("prompt: set either text or prompt_tokens"),
        };

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

        return new GenerateInput(prompt, max, r.PromptCase == GenerateRequest.PromptOneofCase.Text);
    }

    /// <summary>The engine names the prompt <c>prompt_tokens</c>; a request that sent text knows it as <c>text</c>.</summary>
    public static string? ToApiField(string? field, GenerateInput input) =>
        input.TextPrompt && field is not null ? field.Replace(RequestLimits.PromptTokens, "text", StringComparison.Ordinal) : field;
}
