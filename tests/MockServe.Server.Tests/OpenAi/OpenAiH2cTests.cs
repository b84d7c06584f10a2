using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

using MockServe.Server.Tests.Integration;

using static MockServe.Server.Tests.OpenAi.OpenAiClients;

namespace MockServe.Server.Tests.OpenAi;

/// <summary>
/// The OpenAI port without TLS serves HTTP/1.1 and h2c (HTTP/2 with prior knowledge) on the one port: Kestrel would
/// serve HTTP/1.1 alone, so the server tells the HTTP/2 preface apart itself.
/// </summary>
[Collection(TestServer.Collection)]
public class OpenAiH2cTests
{
    [Fact]
    public async Task Models_H2cPriorKnowledge_AnsweredOverHttp2()
    {
        await using var server = await TestServer.StartAsync();
        using var http = Client(server, HttpVersion.Version20);

        using var response = await http.GetAsync("models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("yi-34b", json.GetProperty("data")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task Models_Http11_StillAnsweredOverHttp11()
    {
        await using var server = await TestServer.StartAsync();
        using var http = Client(server, HttpVersion.Version11);

        using var response = await http.GetAsync("models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version);
    }

    [Theory]
    [InlineData("2.0")]
    [InlineData("1.1")]
    public async Task ChatCompletionsStream_EitherProtocol_EventsEndWithDone(string version)
    {
        await using var server = await TestServer.StartAsync();
        using var http = Client(server, Version.Parse(version));
        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions")
        {
            // A message made by hand is HTTP/1.1 whatever the client's default.
            Version = http.DefaultRequestVersion,
            VersionPolicy = http.DefaultVersionPolicy,
            Content = JsonContent.Create(new { model = "yi-34b", messages = new[] { new { role = "user", content = "Hello" } }, max_tokens = 5, ignore_eos = true, stream = true }),
        };

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = await ReadEventsAsync(response);

        Assert.Equal(Version.Parse(version), response.Version);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0]).ToList();
        Assert.Equal("length", chunks[^1].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task CompletionsStream_H2c_FirstEventArrivesBeforeTheLastIsDue()
    {
        // On a fake clock: 10 tokens of Yi-34B on the A100 take about 10 x 34 ms = 340 ms of model time, 34 moves of
        // 10 ms. Until the first event is read each move waits up to 20 ms of wall time for it, so a server that held
        // events back until the stream's end would show the first at the model time of the last.
        await using var server = await TestServer.StartOnFakeClockAsync();
        using var http = Client(server, HttpVersion.Version20);
        var first = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = Task.Run(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "completions")
            {
                Version = http.DefaultRequestVersion,
                VersionPolicy = http.DefaultVersionPolicy,
                Content = JsonContent.Create(new { model = "yi-34b", prompt = "abcdefgh", max_tokens = 10, ignore_eos = true, stream = true }),
            };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpVersion.Version20, response.Version);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            string? last = null;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    first.TrySetResult(server.Fake.GetUtcNow());
                    last = line;
                }
            }

            return (Last: last, Done: server.Fake.GetUtcNow());
        });

        var (last, done) = await server.DriveAsync(reading, step: 0.01, between: () => first.Task.IsCompleted ? Task.CompletedTask : Task.WhenAny(first.Task, Task.Delay(20)));

        Assert.Equal("data: [DONE]", last);
        var firstAt = await first.Task;
        Assert.True(firstAt < done - TimeSpan.FromMilliseconds(100), $"first event at {firstAt:ss.fff}, stream done at {done:ss.fff} (model time)");
    }

    [Theory]
    [InlineData("")]
    [InlineData("P")]
    [InlineData("PRI * HT")]
    [InlineData("GET /v1/mo")]
    public async Task Models_AfterAConnectionSentAFewBytesAndClosed_BothProtocolsAnswered(string bytes)
    {
        await using var server = await TestServer.StartAsync();
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, server.HttpPort);
            await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(bytes));
        }

        using var h2c = Client(server, HttpVersion.Version20);
        using var http11 = Client(server, HttpVersion.Version11);

        Assert.Equal(HttpStatusCode.OK, (await h2c.GetAsync("models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http11.GetAsync("models")).StatusCode);
    }

    [Fact]
    public async Task Models_WhileAConnectionStallsInsideThePreface_OthersAnswered()
    {
        await using var server = await TestServer.StartAsync();
        using var stalled = new TcpClient();
        await stalled.ConnectAsync(IPAddress.Loopback, server.HttpPort);
        await stalled.GetStream().WriteAsync("PRI * HTTP/2"u8.ToArray());

        using var h2c = Client(server, HttpVersion.Version20);

        using var response = await h2c.GetAsync("models");
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>A client that speaks exactly <paramref name="version"/>: HTTP/2 over cleartext means prior knowledge.</summary>
    private static HttpClient Client(TestServer server, Version version) => new(new SocketsHttpHandler())
    {
        BaseAddress = server.OpenAiUri,
        DefaultRequestVersion = version,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}
