using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

using Grpc.Core;

using MockServe.Contracts.V1;
using MockServe.Server.Tests.Integration;
using MockServe.Server.Text;

using OpenAI.Chat;

using static MockServe.Server.Tests.OpenAi.OpenAiClients;

namespace MockServe.Server.Tests.OpenAi;

/// <summary>
/// The OpenAI face through the official OpenAI .NET SDK (chat) and plain HTTP (legacy completions, which the SDK's
/// 2.x surface no longer offers, and vLLM's extensions). Prompts are counted with the approx tokenizer, 4 characters a
/// token rounded up, so every count below is worked by hand.
/// </summary>
[Collection(TestServer.Collection)]
public class OpenAiHttpTests
{
    // "<|user|>\nHello\n<|assistant|>\n": 8 + 1 + 5 + 1 + 13 + 1 = 29 characters, (29 + 3) / 4 = 8 tokens.
    private const long HelloPromptTokens = 8;

    private static readonly (string, string) Approx = ("Server:Tokenizer", "approx");

    [Fact]
    public async Task CompleteChat_OneToken_LengthWithTemplatePromptCounted()
    {
        await using var server = await TestServer.StartAsync(Approx);

        ChatCompletion completion = await Chat(server).CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 1 });

        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.Equal("yi-34b", completion.Model);
        Assert.NotEmpty(completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(HelloPromptTokens, completion.Usage.InputTokenCount);
        Assert.Equal(1, completion.Usage.OutputTokenCount);
        Assert.Equal(HelloPromptTokens + 1, completion.Usage.TotalTokenCount);
        Assert.Equal(0, completion.Usage.InputTokenDetails.CachedTokenCount);
    }

    [Fact]
    public async Task CompleteChatStreaming_IncludeUsage_TextThenOneFinishThenUsage()
    {
        await using var server = await TestServer.StartAsync(Approx);
        var updates = new List<StreamingChatCompletionUpdate>();

        await foreach (var update in Chat(server).CompleteChatStreamingAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 20 }))
        {
            updates.Add(update);
        }

        string text = string.Concat(updates.SelectMany(u => u.ContentUpdate).Select(p => p.Text));
        Assert.NotEmpty(text);
        Assert.Single(updates, u => u.FinishReason is not null);
        var usage = updates[^1].Usage;
        Assert.NotNull(usage);
        Assert.Equal(HelloPromptTokens, usage.InputTokenCount);
        Assert.InRange(usage.OutputTokenCount, 1, 20);
        Assert.Equal(HelloPromptTokens + usage.OutputTokenCount, usage.TotalTokenCount);
        Assert.Equal(ChatMessageRole.Assistant, updates[0].Role);
    }

    [Fact]
    public async Task CompleteChat_SecondTurnWithSessionHeader_HistoryCached()
    {
        await using var server = await TestServer.StartAsync(Approx);
        var chat = Chat(server, session: "conversation-1");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 1 };

        ChatCompletion first = await chat.CompleteChatAsync([new UserChatMessage("Hello")], options);
        ChatCompletion second = await chat.CompleteChatAsync(
            [new UserChatMessage("Hello"), new AssistantChatMessage(first.Content[0].Text), new UserChatMessage("Again")], options);

        Assert.Equal(0, first.Usage.InputTokenDetails.CachedTokenCount);
        // The session holds turn 1's 8 prompt tokens and its 1 output but the last (whose KV only the next turn
        // computes): 8 + 1 - 1 = 8 cached.
        Assert.Equal(HelloPromptTokens, second.Usage.InputTokenDetails.CachedTokenCount);
        Assert.True(second.Usage.InputTokenCount > HelloPromptTokens + 1, $"turn 2's prompt of {second.Usage.InputTokenCount} tokens does not hold the history");
    }

    [Fact]
    public async Task CompleteChat_SecondTurnWithoutSessionHeader_PrefixCacheFindsPromptAndAnswer()
    {
        // No session: the client resends the conversation, and automatic prefix caching finds turn 1's prompt and
        // answer in full blocks of 16 tokens (o200k, the default tokenizer), up to the last generated token, whose KV
        // only a next step would compute. The template is written out here as the README documents it.
        await using var server = await TestServer.StartAsync();
        var chat = Chat(server);
        string system = string.Concat(Enumerable.Range(0, 50).Select(i => $"Rule {i}: answer briefly. "));
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 100 };

        ChatCompletion first = await chat.CompleteChatAsync([new SystemChatMessage(system), new UserChatMessage("Hello")], options);
        string answer = first.Content[0].Text;
        ChatCompletion second = await chat.CompleteChatAsync(
            [new SystemChatMessage(system), new UserChatMessage("Hello"), new AssistantChatMessage(answer), new UserChatMessage("Again")], options);

        var o200k = PromptTokenizers.Create("o200k");
        int[] turn1 = o200k.Encode($"<|system|>\n{system}\n<|user|>\nHello\n<|assistant|>\n{answer}", long.MaxValue, CancellationToken.None);
        int[] turn2 = o200k.Encode(
            $"<|system|>\n{system}\n<|user|>\nHello\n<|assistant|>\n{answer}\n<|user|>\nAgain\n<|assistant|>\n", long.MaxValue, CancellationToken.None);
        int common = turn1.Zip(turn2).TakeWhile(p => p.First == p.Second).Count();
        long computed = first.Usage.InputTokenCount + first.Usage.OutputTokenCount - 1;
        Assert.Equal(0, first.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(turn2.Length, second.Usage.InputTokenCount);
        Assert.Equal(Math.Min(computed, common) / 16 * 16, second.Usage.InputTokenDetails.CachedTokenCount);
        Assert.True(common >= computed, $"turn 2 re-encodes only {common} tokens of turn 1's {computed} as generated");
        Assert.True(first.Usage.OutputTokenCount > 16, $"an answer of {first.Usage.OutputTokenCount} tokens fills no block to find");
    }

    [Fact]
    public async Task Completions_IgnoreEos_UsageAndLength()
    {
        await using var server = await TestServer.StartAsync(Approx);
        using var http = Http(server);

        // "abcdefgh": (8 + 3) / 4 = 2 prompt tokens.
        var (response, json) = await PostAsync(http, "completions", new { model = "yi-34b", prompt = "abcdefgh", max_tokens = 4, ignore_eos = true });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("cmpl-", json.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("text_completion", json.GetProperty("object").GetString());
        Assert.Equal("yi-34b", json.GetProperty("model").GetString());
        var choice = json.GetProperty("choices")[0];
        Assert.NotEmpty(choice.GetProperty("text").GetString()!);
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal(2, usage.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(4, usage.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(6, usage.GetProperty("total_tokens").GetInt64());
        Assert.Equal(0, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt64());
    }

    [Fact]
    public async Task Completions_StreamWithUsage_EventsAsDueThenFinishUsageAndDone()
    {
        // On a fake clock moved 10 ms at a time: Yi-34B's ~34 ms decode step on the A100 makes about one token due
        // every few moves, so the 10 tokens cannot all arrive as one event.
        await using var server = await TestServer.StartOnFakeClockAsync(Approx);
        using var http = Http(server);
        var reading = Task.Run(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "completions")
            {
                Content = JsonContent.Create(new { prompt = "abcdefgh", max_tokens = 10, ignore_eos = true, stream = true, stream_options = new { include_usage = true } }),
            };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return await ReadEventsAsync(response);
        });

        var events = await server.DriveAsync(reading, step: 0.01);

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        var usage = chunks[^1];
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal(2, usage.GetProperty("usage").GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(10, usage.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        var text = chunks[..^1].Select(c => c.GetProperty("choices")[0]).ToList();
        Assert.Equal("length", text[^1].GetProperty("finish_reason").GetString());
        Assert.All(text[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("finish_reason").ValueKind));
        Assert.True(text.Count >= 2, $"10 tokens due over 340 ms of model time came as {text.Count} event(s)");
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
    }

    [Fact]
    public async Task Models_Get_TheServedModel()
    {
        await using var server = await TestServer.StartAsync();
        using var http = Http(server);

        var json = await http.GetFromJsonAsync<JsonElement>("models");

        var model = Assert.Single(json.GetProperty("data").EnumerateArray());
        Assert.Equal("yi-34b", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.Equal("mockserve", model.GetProperty("owned_by").GetString());
        Assert.Equal(200_000, model.GetProperty("max_model_len").GetInt64());
    }

    [Fact]
    public async Task Tokenize_TwoWords_CountMatchesTheIds()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient(server.CreateHandler()) { BaseAddress = new Uri(server.OpenAiUri, "/") };

        // o200k: "Hello" and " world" are one token each.
        var (response, json) = await PostAsync(http, "tokenize", new { model = "yi-34b", prompt = "Hello world" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, json.GetProperty("count").GetInt64());
        Assert.Equal(2, json.GetProperty("tokens").GetArrayLength());
        Assert.Equal(200_000, json.GetProperty("max_model_len").GetInt64());
    }

    [Fact]
    public async Task HealthAndMetrics_OnTheHttpPort_ReadyAndTheSameExposition()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient(server.CreateHandler()) { BaseAddress = new Uri(server.OpenAiUri, "/") };

        var health = await http.GetAsync("health");
        string metrics = await http.GetStringAsync("metrics");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("mockserve_max_concurrent_users", metrics);
    }

    [Fact]
    public async Task CompleteChat_MaxTokensZero_400NamingTheField()
    {
        await using var server = await TestServer.StartAsync();

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat(server).CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 0 }));

        Assert.Equal(400, ex.Status);
        var error = JsonDocument.Parse(ex.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
        Assert.Equal("max_tokens: must be between 1 and the model's context of 200000 tokens, got 0", error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("max_tokens", error.GetProperty("param").GetString());
        Assert.Equal("invalid_argument", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Completions_TwoChoices_400NamingTheLimit()
    {
        await using var server = await TestServer.StartAsync();
        using var http = Http(server);

        var (response, json) = await PostAsync(http, "completions", new { prompt = "hi", n = 2 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("n: MockServe generates 1 choice per request, got 2", json.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("n", json.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Completions_MaxTokensNotANumber_400NamingTheField()
    {
        await using var server = await TestServer.StartAsync();
        using var http = Http(server);

        var (response, json) = await PostAsync(http, "completions", new { prompt = "hi", max_tokens = "lots" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("max_tokens", json.GetProperty("error").GetProperty("param").GetString());
        Assert.StartsWith("max_tokens: not a value of this field's JSON type (at $.max_tokens", json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completions_ApiKeysOnWithoutKey_401ButHealthOpen()
    {
        await using var server = await TestServer.StartAsync(("Server:ApiKeys", "k-0123456789abcdef"));
        using var http = Http(server);

        var (completion, json) = await PostAsync(http, "completions", new { prompt = "hi", max_tokens = 1 });
        var health = await http.GetAsync(new Uri(server.OpenAiUri, "/health"));

        Assert.Equal(HttpStatusCode.Unauthorized, completion.StatusCode);
        Assert.Equal("invalid_api_key", json.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task CompleteChat_UnknownModel_404ModelNotFound()
    {
        await using var server = await TestServer.StartAsync();

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat(server, model: "gpt-4o").CompleteChatAsync([new UserChatMessage("Hello")]));

        Assert.Equal(404, ex.Status);
        var error = JsonDocument.Parse(ex.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
        Assert.Equal("model: the model 'gpt-4o' does not exist; this server serves 'yi-34b'", error.GetProperty("message").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Completions_QueueFull_429WithRetryAfterRoundedUp()
    {
        // One 50K user fills the A100; with room for one waiting request the third is refused. On a fake clock the
        // first stays running however slow the machine.
        await using var server = await TestServer.StartOnFakeClockAsync(("Engine:MaxWaiting", "1"), ("Server:TimeScale", "0.05"));
        using var running = server.Client.Generate(new GenerateRequest { PromptTokens = 50_000, MaxTokens = 10, IgnoreEos = true });
        using var waiting = server.Client.Generate(new GenerateRequest { PromptTokens = 50_000, MaxTokens = 10, IgnoreEos = true });
        await server.WaitForPoolAsync(p => p.RequestsWaiting == 1);
        using var http = Http(server);

        var (response, json) = await PostAsync(http, "completions", new { prompt = "hi", max_tokens = 10 });

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        // 5 model seconds at scale 0.05 = 250 ms, rounded up to whole seconds: 1.
        Assert.Equal("1", Assert.Single(response.Headers.GetValues("Retry-After")));
        var error = json.GetProperty("error");
        Assert.Contains("waiting queue is full: 1 of 1 requests waiting", error.GetProperty("message").GetString());
        Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Completions_WhileDraining_503AndHealth503()
    {
        // On a fake clock the stream in flight cannot finish (and the drain cannot end) before the test has looked.
        var server = await TestServer.StartOnFakeClockAsync();
        using var http = Http(server);
        var inFlight = server.GenerateAsync(new GenerateRequest { PromptTokens = 2000, MaxTokens = 100, IgnoreEos = true });
        await server.WaitForPoolAsync(p => p.RequestsRunning == 1);

        var stopping = server.App.StopAsync();
        for (int i = 0; i < 250 && !server.Host.IsDraining; i++)
        {
            await Task.Delay(20);
        }

        var (response, json) = await PostAsync(http, "completions", new { prompt = "hi", max_tokens = 1 });
        var health = await http.GetAsync(new Uri(server.OpenAiUri, "/health"));
        await server.DriveAsync(inFlight);
        await stopping;
        await server.DisposeAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("the server is shutting down: no new requests are accepted", json.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
    }

    [Fact]
    public async Task CompletionsStream_InjectedAbort_ErrorEventAfterTheTokensThenDone()
    {
        await using var server = await TestServer.StartAsync();
        using var http = Http(server);
        using var request = new HttpRequestMessage(HttpMethod.Post, "completions")
        {
            Content = JsonContent.Create(new { prompt = "hi", max_tokens = 10, ignore_eos = true, stream = true }),
            Headers = { { "x-mockserve-fail", "abort" } },
        };

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = await ReadEventsAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[DONE]", events[^1]);
        var error = JsonDocument.Parse(events[^2]).RootElement.GetProperty("error");
        // An abort strikes at half the target: 10 / 2 = 5 tokens.
        Assert.Equal("injected failure (abort): the stream broke after 5 tokens", error.GetProperty("message").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal("internal", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task CompleteChat_SessionWithTurnInFlight_409()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();
        using var first = server.Client.Generate(new GenerateRequest { SessionId = "busy", PromptTokens = 4000, MaxTokens = 2000, IgnoreEos = true });
        await server.WaitForPoolAsync(p => p.RequestsRunning == 1);

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat(server, session: "busy").CompleteChatAsync([new UserChatMessage("Hello")]));

        Assert.Equal(409, ex.Status);
        Assert.Contains("session_id: 'busy' already has a turn in flight", ex.Message);
    }

    [Fact]
    public async Task CompletionsStream_ClientDisconnects_RequestCancelledAndKvFreed()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();
        using var http = Http(server);
        using var request = new HttpRequestMessage(HttpMethod.Post, "completions")
        {
            Content = JsonContent.Create(new { prompt = new[] { 1, 2, 3, 4 }, max_tokens = 50_000, ignore_eos = true, stream = true }),
        };
        var sent = http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var response = await server.DriveAsync(sent, step: 0.05);
        var stream = await response.Content.ReadAsStreamAsync();
        Assert.True((await stream.ReadAsync(new byte[64])) > 0, "no event arrived");
        Assert.True((await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool.HbmKvBytesUsed > 0, "the request held no KV");

        response.Dispose();
        var freed = await server.DriveAsync(server.WaitForPoolAsync(p => p.HbmKvBytesUsed == 0 && p.RequestsRunning == 0), step: 0.05);

        Assert.Equal(0, freed.HbmKvBytesUsed);
        Assert.Contains("mockserve_requests_total{outcome=\"cancelled\"} 1\n", await server.ScrapeAsync());
    }
}
