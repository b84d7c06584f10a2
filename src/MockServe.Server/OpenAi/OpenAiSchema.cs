using System.Text.Json;
using System.Text.Json.Serialization;

namespace MockServe.Server.OpenAi;

// OpenAI's request and response shapes with vLLM's extensions, as small records written in snake_case. The official
// OpenAI package's models are the client's: its request types keep the messages and model internal (a body read
// into ChatCompletionOptions cannot be looked at), and it has no legacy completions types at all. Chat responses
// could be built with OpenAIChatModelFactory and written with ModelReaderWriter, but then one face would be written
// two ways; these records keep every shape in one place, and the tests read them back with that package (and npm's).

/// <summary>A /v1/completions or /v1/chat/completions body (and /tokenize's): the fields MockServe honours; the rest are ignored.</summary>
internal sealed record OpenAiRequest
{
    public string? Model { get; init; }

    /// <summary>/v1/completions: a string, a list of one string, or a list of token ids (counted, not read).</summary>
    public JsonElement Prompt { get; init; }

    /// <summary>/v1/chat/completions: the conversation so far.</summary>
    public List<ChatMessage>? Messages { get; init; }

    public bool Stream { get; init; }

    public StreamOptions? StreamOptions { get; init; }

    public long? MaxTokens { get; init; }

    /// <summary>OpenAI's newer name for max_tokens; wins when both are set.</summary>
    public long? MaxCompletionTokens { get; init; }

    /// <summary>A string or a list of strings.</summary>
    public JsonElement Stop { get; init; }

    public int? N { get; init; }

    public long? Seed { get; init; }

    public float? Temperature { get; init; }

    public float? TopP { get; init; }

    /// <summary>vLLM: fewest tokens before end-of-sequence may stop the turn.</summary>
    public long? MinTokens { get; init; }

    /// <summary>vLLM: generate exactly max_tokens.</summary>
    public bool? IgnoreEos { get; init; }
}

internal sealed record StreamOptions
{
    public bool IncludeUsage { get; init; }
}

/// <summary>One message: its content a string, or a list of parts of which the text parts are read.</summary>
internal sealed record ChatMessage
{
    public string? Role { get; init; }

    public JsonElement Content { get; init; }
}

internal sealed record CompletionChoice(int Index, string Text, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public object? Logprobs => null;
}

internal sealed record ChatChoice(
    int Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AssistantMessage? Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AssistantMessage? Delta,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public object? Logprobs => null;
}

internal sealed record AssistantMessage(string? Role, string? Content);

internal sealed record PromptTokensDetails(long CachedTokens);

internal sealed record OpenAiUsage(long PromptTokens, long CompletionTokens, long TotalTokens, PromptTokensDetails PromptTokensDetails);

/// <summary>A completion, or one chunk of a streamed one (<c>object</c> says which); <c>choices</c> holds completion or chat choices.</summary>
internal sealed record CompletionResponse(string Id, string Object, long Created, string Model, IReadOnlyList<object> Choices, OpenAiUsage? Usage);

internal sealed record ModelCard(string Id, long Created, long MaxModelLen)
{
    public string Object => "model";

    public string OwnedBy => "mockserve";
}

internal sealed record ModelList(IReadOnlyList<ModelCard> Data)
{
    public string Object => "list";
}

internal sealed record TokenizeResponse(long Count, long MaxModelLen, IReadOnlyList<int> Tokens);

internal sealed record ErrorBody(string Message, string Type, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param, string Code);

internal sealed record ErrorResponse(ErrorBody Error);

internal static class OpenAiJson
{
    /// <summary>snake_case both ways; nulls left out unless a shape says a field is always present (finish_reason, logprobs, param).</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Bodies and events are JSON, never HTML: a prompt's quotes and angle brackets stay as they were (vLLM's do).
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
