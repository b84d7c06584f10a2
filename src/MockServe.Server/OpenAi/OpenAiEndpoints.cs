using System.Text.Json;

using Grpc.Core;

using Microsoft.AspNetCore.Http;

using MockServe.Contracts.V1;
using MockServe.Core.Profiles;
using MockServe.Server.Hosting;
using MockServe.Server.Services;
using MockServe.Server.Text;

namespace MockServe.Server.OpenAi;

/// <summary>
/// The OpenAI-compatible HTTP face (with vLLM's extensions and its /tokenize, /health and /metrics), on the HTTP
/// port. Completions run as Generate calls through <see cref="InferenceGrpcService"/> with an
/// <see cref="HttpCallContext"/>: one code path for validation, failure injection, metrics, drain and routing.
/// </summary>
internal sealed class OpenAiEndpoints(EngineHost host, Deployment deployment, IPromptTokenizer tokenizer, IServiceProvider services)
{
    /// <summary>The optional header that gives an OpenAI request an explicit session, as session_id does on gRPC.</summary>
    public const string SessionHeader = "x-session-id";

    /// <summary>The optional header that names the request (vLLM's): its pseudo-text is then reproducible, and gRPC's Abort can end it.</summary>
    public const string RequestIdHeader = "x-request-id";

    private string Model => deployment.Model.Id;

    /// <summary>Answers one request on the HTTP port; <paramref name="metrics"/> writes the Prometheus text.</summary>
    public Task HandleAsync(HttpContext http, Func<HttpContext, Task> metrics)
    {
        string path = http.Request.Path.Value ?? "";
        bool get = HttpMethods.IsGet(http.Request.Method);
        bool post = HttpMethods.IsPost(http.Request.Method);
        return path switch
        {
            "/v1/models" when get => ModelsAsync(http),
            "/v1/completions" when post => CompleteAsync(http, chat: false),
            "/v1/chat/completions" when post => CompleteAsync(http, chat: true),
            "/tokenize" when post => TokenizeAsync(http),
            "/health" when get => HealthAsync(http),
            "/metrics" when get => metrics(http),
            "/v1/models" or "/v1/completions" or "/v1/chat/completions" or "/tokenize" or "/health" or "/metrics" =>
                Fail(http, StatusCodes.Status405MethodNotAllowed, $"{http.Request.Method} is not allowed on {path}", null, "method_not_allowed"),
            _ => Fail(http, StatusCodes.Status404NotFound, $"no endpoint {path}: this server serves /v1/models, /v1/completions, /v1/chat/completions, /tokenize, /health and /metrics", null, "not_found"),
        };
    }

    private Task ModelsAsync(HttpContext http) =>
        http.Response.WriteAsJsonAsync(
            new ModelList([new ModelCard(Model, host.Time.GetUtcNow().ToUnixTimeSeconds(), deployment.Model.MaxContext)]), OpenAiJson.Options, http.RequestAborted);

    /// <summary>200 when ready; 503 while the server warms up or drains, as the gRPC readiness check says NOT_SERVING.</summary>
    private Task HealthAsync(HttpContext http)
    {
        http.Response.StatusCode = host.IsReady && !host.IsDraining ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        return Task.CompletedTask;
    }

    private async Task TokenizeAsync(HttpContext http)
    {
        try
        {
            var body = await ReadAsync(http);
            CheckModel(body.Model);
            string text = body.Messages is not null ? ChatTemplate.Render(body.Messages) : PromptText(body.Prompt).Text
                ?? throw Errors.Invalid("prompt: /tokenize takes text, not token ids");
            var ids = tokenizer.Encode(text, long.MaxValue, http.RequestAborted);
            long count = tokenizer.Count(text, long.MaxValue, http.RequestAborted).Tokens;
            await http.Response.WriteAsJsonAsync(new TokenizeResponse(count, deployment.Model.MaxContext, ids), OpenAiJson.Options, http.RequestAborted);
        }
        catch (RpcException ex)
        {
            await OpenAiResponder.WriteErrorAsync(http, OpenAiErrors.HttpStatus(ex.StatusCode), OpenAiErrors.Body(ex, "prompt"), null, http.RequestAborted);
        }
    }

    private async Task CompleteAsync(HttpContext http, bool chat)
    {
        string textField = chat ? "messages" : "prompt";
        OpenAiResponder? responder = null;
        try
        {
            var body = await ReadAsync(http);
            var request = ToGenerate(body, chat, http.Request.Headers);
            responder = new OpenAiResponder(http, chat, Model, host.Time.GetUtcNow().ToUnixTimeSeconds(), body.Stream, body.StreamOptions?.IncludeUsage == true);
            var context = new HttpCallContext(http, chat ? "/v1/chat/completions" : "/v1/completions");
            await ActivatorUtilities.CreateInstance<InferenceGrpcService>(services).Generate(request, responder, context);
        }
        catch (Exception ex) when (http.RequestAborted.IsCancellationRequested && ex is RpcException or OperationCanceledException or IOException)
        {
            // The client went away: Generate has cancelled the request and freed its KV; nobody is left to tell.
        }
        catch (RpcException ex)
        {
            await (responder?.FailAsync(ex, textField, http.RequestAborted)
                ?? OpenAiResponder.WriteErrorAsync(http, OpenAiErrors.HttpStatus(ex.StatusCode), OpenAiErrors.Body(ex, textField), OpenAiErrors.RetryAfter(ex), http.RequestAborted));
        }
    }

    /// <summary>The Generate request an OpenAI body asks for; INVALID_ARGUMENT or NOT_FOUND naming the field when it cannot.</summary>
    private GenerateRequest ToGenerate(OpenAiRequest body, bool chat, IHeaderDictionary headers)
    {
        CheckModel(body.Model);
        if (body.N is { } n && n != 1)
        {
            throw Errors.Invalid($"n: MockServe generates 1 choice per request, got {n}");
        }

        var request = new GenerateRequest
        {
            RequestId = headers[RequestIdHeader].ToString(),
            SessionId = headers[SessionHeader].ToString(),
            MinTokens = body.MinTokens ?? 0,
            IgnoreEos = body.IgnoreEos == true,
            Seed = body.Seed ?? 0,
            Temperature = body.Temperature ?? 0,
            TopP = body.TopP ?? 0,
        };
        if ((body.MaxCompletionTokens ?? body.MaxTokens) is { } max)
        {
            request.MaxTokens = max;
        }

        request.Stop.AddRange(Stops(body.Stop));
        if (chat)
        {
            if (body.Messages is null)
            {
                throw Errors.Invalid("messages: required");
            }

            request.Text = ChatTemplate.Render(body.Messages);
        }
        else
        {
            var (text, tokens) = PromptText(body.Prompt);
            if (text is not null)
            {
                request.Text = text;
            }
            else
            {
                request.PromptTokens = tokens;
            }
        }

        return request;
    }

    /// <summary>A prompt's text, or its length when it is a list of token ids (counted, never read).</summary>
    private static (string? Text, long Tokens) PromptText(JsonElement prompt)
    {
        if (prompt.ValueKind == JsonValueKind.String)
        {
            return (prompt.GetString(), 0);
        }

        if (prompt.ValueKind == JsonValueKind.Array)
        {
            var items = prompt.EnumerateArray().ToList();
            if (items.Count == 1 && items[0].ValueKind == JsonValueKind.String)
            {
                return (items[0].GetString(), 0);
            }

            if (items.Count > 0 && items.All(i => i.ValueKind == JsonValueKind.Number))
            {
                return (null, items.Count);
            }

            throw Errors.Invalid($"prompt: a string, a list of one string or a list of token ids, got a list of {items.Count} items (MockServe takes one prompt per request)");
        }

        throw Errors.Invalid(prompt.ValueKind == JsonValueKind.Undefined ? "prompt: required" : $"prompt: a string or a list, got JSON type {prompt.ValueKind}");
    }

    private static IEnumerable<string> Stops(JsonElement stop) => stop.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => [],
        JsonValueKind.String => [stop.GetString()!],
        JsonValueKind.Array when stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String) => stop.EnumerateArray().Select(s => s.GetString()!).ToList(),
        _ => throw Errors.Invalid("stop: a string or a list of strings"),
    };

    /// <summary>The served model's id, or none (vLLM's default); NOT_FOUND naming the model otherwise.</summary>
    private void CheckModel(string? model)
    {
        if (!string.IsNullOrEmpty(model) && model != Model)
        {
            throw Errors.NotFound($"model: the model '{model}' does not exist; this server serves '{Model}'");
        }
    }

    private static async Task<OpenAiRequest> ReadAsync(HttpContext http)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<OpenAiRequest>(http.Request.Body, OpenAiJson.Options, http.RequestAborted)
                ?? throw Errors.Invalid("body: expected a JSON object, got null");
        }
        catch (JsonException ex)
        {
            // The reader names the JSON path of what it could not read ($.max_tokens, $.messages[0].role): its first name is the field.
            string? field = ex.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..].Split('.', '[')[0] : null;
            // The converter's own message names .NET types; the reader's (bad syntax) says what is wrong with the JSON.
            throw Errors.Invalid(field is null
                ? $"body: not a JSON object of this endpoint's request: {ex.Message}"
                : $"{field}: not a value of this field's JSON type (at {ex.Path}, line {ex.LineNumber + 1}, byte {ex.BytePositionInLine})");
        }
    }

    private static Task Fail(HttpContext http, int status, string message, string? param, string code) =>
        OpenAiResponder.WriteErrorAsync(http, status, new ErrorResponse(new ErrorBody(message, "invalid_request_error", param, code)), null, http.RequestAborted);
}
