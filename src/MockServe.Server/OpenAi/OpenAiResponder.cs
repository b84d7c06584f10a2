using System.Text;
using System.Text.Json;

using Grpc.Core;

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

using MockServe.Contracts.V1;

namespace MockServe.Server.OpenAi;

/// <summary>
/// Turns one Generate stream into an OpenAI response. Streaming: one server-sent event per chunk of tokens due
/// together, written and flushed as Generate hands it over; the last chunk waits for the completion that follows it
/// at once, to carry finish_reason; then the usage chunk when asked for, and <c>data: [DONE]</c>. Otherwise one JSON
/// body at the end. The response starts at the first event, so a refusal before it is still an HTTP status.
/// Generate writes from one task at a time.
/// </summary>
internal sealed class OpenAiResponder(HttpContext http, bool chat, string model, long created, bool stream, bool includeUsage)
    : IServerStreamWriter<GenerateResponse>
{
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private readonly StringBuilder _text = new();
    private string _id = "";
    private bool _roleSent;

    public WriteOptions? WriteOptions { get; set; }

    /// <summary>The response has begun: an error can only be told in-band now.</summary>
    public bool Started => http.Response.HasStarted;

    public Task WriteAsync(GenerateResponse message) => WriteAsync(message, CancellationToken.None);

    public async Task WriteAsync(GenerateResponse message, CancellationToken cancellationToken)
    {
        _id = (chat ? "chatcmpl-" : "cmpl-") + message.RequestId;
        if (message.EventCase == GenerateResponse.EventOneofCase.Chunk)
        {
            _text.Append(message.Chunk.Text);
            if (stream && !message.Chunk.Last)
            {
                await EventAsync(Chunk(null, null), cancellationToken);
            }

            return;
        }

        var complete = message.Complete;
        string reason = complete.FinishReason == FinishReason.Stop ? "stop" : "length";
        var usage = new OpenAiUsage(
            complete.Usage.PromptTokens,
            complete.Usage.CompletionTokens,
            complete.Usage.PromptTokens + complete.Usage.CompletionTokens,
            new PromptTokensDetails(complete.Usage.CachedTokens));
        if (!stream)
        {
            object choice = chat
                ? new ChatChoice(0, new AssistantMessage("assistant", _text.ToString()), null, reason)
                : new CompletionChoice(0, _text.ToString(), reason);
            http.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(http.Response.Body, Response(chat ? "chat.completion" : "text_completion", [choice], usage), OpenAiJson.Options, cancellationToken);
            return;
        }

        await EventAsync(Chunk(reason, null), cancellationToken);
        if (includeUsage)
        {
            await EventAsync(Response(ChunkObject, [], usage), cancellationToken);
        }

        await http.Response.Body.WriteAsync(Done, cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// The error as OpenAI's error object: the status and body before the response began; after it (a stream that
    /// broke or was ended by the drain), an event carrying the error object and then <c>[DONE]</c>, as vLLM sends it.
    /// </summary>
    public async Task FailAsync(RpcException ex, string textField, CancellationToken ct)
    {
        var body = OpenAiErrors.Body(ex, textField);
        if (!Started)
        {
            await WriteErrorAsync(http, OpenAiErrors.HttpStatus(ex.StatusCode), body, OpenAiErrors.RetryAfter(ex), ct);
            return;
        }

        await EventAsync(body, ct);
        await http.Response.Body.WriteAsync(Done, ct);
        await http.Response.Body.FlushAsync(ct);
    }

    public static async Task WriteErrorAsync(HttpContext http, int status, ErrorResponse body, string? retryAfter, CancellationToken ct)
    {
        http.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            http.Response.Headers.RetryAfter = retryAfter;
        }

        http.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(http.Response.Body, body, OpenAiJson.Options, ct);
    }

    private string ChunkObject => chat ? "chat.completion.chunk" : "text_completion";

    /// <summary>A chunk with the text gathered since the last one, then resets it; the first chat chunk names the role.</summary>
    private CompletionResponse Chunk(string? reason, OpenAiUsage? usage)
    {
        object choice;
        if (chat)
        {
            choice = new ChatChoice(0, null, new AssistantMessage(_roleSent ? null : "assistant", _text.ToString()), reason);
            _roleSent = true;
        }
        else
        {
            choice = new CompletionChoice(0, _text.ToString(), reason);
        }

        _text.Clear();
        return Response(ChunkObject, [choice], usage);
    }

    private CompletionResponse Response(string kind, IReadOnlyList<object> choices, OpenAiUsage? usage) => new(_id, kind, created, model, choices, usage);

    private async Task EventAsync(object payload, CancellationToken ct)
    {
        var response = http.Response;
        if (!response.HasStarted)
        {
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            // Proxies in front (nginx) would otherwise gather the events; tokens must leave as they are due.
            response.Headers["X-Accel-Buffering"] = "no";
            http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        }

        using var buffer = new MemoryStream();
        buffer.Write("data: "u8);
        JsonSerializer.Serialize(buffer, payload, payload.GetType(), OpenAiJson.Options);
        buffer.Write("\n\n"u8);
        await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ct);
        await response.Body.FlushAsync(ct);
    }
}
