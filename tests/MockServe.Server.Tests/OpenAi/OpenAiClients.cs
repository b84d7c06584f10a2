using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Json;
using System.Text.Json;

using MockServe.Server.Tests.Integration;

using OpenAI;
using OpenAI.Chat;

namespace MockServe.Server.Tests.OpenAi;

/// <summary>Clients of a test server's OpenAI face: the official SDK's, and plain HTTP for what the SDK cannot send.</summary>
internal static class OpenAiClients
{
    /// <summary>The SDK's chat client; no retries (a refusal is what the tests look at), and <c>x-session-id</c> when given.</summary>
    public static ChatClient Chat(TestServer server, string model = "yi-34b", string? session = null)
    {
        var options = new OpenAIClientOptions { Endpoint = server.OpenAiUri, RetryPolicy = new ClientRetryPolicy(0) };
        if (session is not null)
        {
            options.AddPolicy(new HeaderPolicy("x-session-id", session), PipelinePosition.PerCall);
        }

        return new ChatClient(model, new ApiKeyCredential("unused"), options);
    }

    public static HttpClient Http(TestServer server) => new(server.CreateHandler()) { BaseAddress = server.OpenAiUri };

    /// <summary>POSTs <paramref name="body"/> (snake_case as written) to <paramref name="path"/> and reads the JSON answer.</summary>
    public static async Task<(HttpResponseMessage Response, JsonElement Json)> PostAsync(HttpClient http, string path, object body)
    {
        var response = await http.PostAsJsonAsync(path, body);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (response, json);
    }

    /// <summary>The data lines of a server-sent event stream, as read line by line while it arrives.</summary>
    public static async Task<List<string>> ReadEventsAsync(HttpResponseMessage response)
    {
        var events = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(line["data: ".Length..]);
            }
        }

        return events;
    }

    private sealed class HeaderPolicy(string name, string value) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            message.Request.Headers.Set(name, value);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            message.Request.Headers.Set(name, value);
            return ProcessNextAsync(message, pipeline, currentIndex);
        }
    }
}
