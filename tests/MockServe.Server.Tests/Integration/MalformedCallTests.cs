using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;

using Google.Protobuf;

using Grpc.Core;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using MockServe.Contracts.V1;

namespace MockServe.Server.Tests.Integration;

/// <summary>Request bodies that are not one well-formed message, sent over raw HTTP/2 as a broken client would.</summary>
[Collection(TestServer.Collection)]
public class MalformedCallTests
{
    private const string GeneratePath = "/mockserve.v1.InferenceService/Generate";

    [Theory]
    [InlineData("20ffffffffffffffffffff01", "bad varint")]
    [InlineData("1a02c328", "invalid UTF-8 in text")]
    [InlineData("0a0561", "truncated request_id")]
    [InlineData("0f", "wire type 7")]
    [InlineData("00", "tag 0")]
    public async Task Generate_MessageDoesNotParse_InvalidArgumentNamingTheType(string hex, string what)
    {
        await using var server = await TestServer.StartAsync();

        var (status, message) = await PostAsync(server, Frame(Convert.FromHexString(hex)));

        Assert.True(status == StatusCode.InvalidArgument, $"{what}: {status} {message}");
        Assert.StartsWith($"request body: not a valid GenerateRequest ({hex.Length / 2} bytes): ", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_BodyEndsInsideTheMessage_InvalidArgumentWithTheCounts()
    {
        await using var server = await TestServer.StartAsync();

        var (status, message) = await PostAsync(server, Frame(new byte[10], declared: 100));

        Assert.Equal(StatusCode.InvalidArgument, status);
        Assert.Equal("request body: ended after 10 of the 100 bytes its message header declares", message);
    }

    [Theory]
    [InlineData(0, "request body: empty; expected one length-prefixed message")]
    [InlineData(3, "request body: ended after 3 bytes, inside the 5-byte message header")]
    public async Task Generate_BodyShorterThanAHeader_InvalidArgument(int bytes, string expected)
    {
        await using var server = await TestServer.StartAsync();

        var (status, message) = await PostAsync(server, new byte[bytes]);

        Assert.Equal(StatusCode.InvalidArgument, status);
        Assert.Equal(expected, message);
    }

    [Fact]
    public async Task Generate_DataAfterTheMessage_InvalidArgument()
    {
        await using var server = await TestServer.StartAsync();
        var valid = Frame(Valid().ToByteArray());

        var (status, message) = await PostAsync(server, [.. valid, .. valid]);

        Assert.Equal(StatusCode.InvalidArgument, status);
        Assert.Equal($"request body: data after the {valid.Length - 5}-byte message; the call carries one message", message);
    }

    [Fact]
    public async Task Generate_CompressedFlagWithoutEncoding_InvalidArgument()
    {
        await using var server = await TestServer.StartAsync();

        var (status, message) = await PostAsync(server, Frame(Valid().ToByteArray(), flag: 1));

        Assert.Equal(StatusCode.InvalidArgument, status);
        Assert.Equal("request body: the message is marked compressed but the call names no grpc-encoding", message);
    }

    [Fact]
    public async Task Generate_CompressedMessageThatDoesNotDecompress_InvalidArgument()
    {
        await using var server = await TestServer.StartAsync();

        var (status, message) = await PostAsync(server, Frame([1, 2, 3, 4, 5, 6, 7, 8], flag: 1), ("grpc-encoding", "gzip"));

        Assert.True(status == StatusCode.InvalidArgument, $"{status} {message}");
        Assert.StartsWith("request body: the gzip message does not decompress: ", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_CompressedMessageOverTheLimitOnceDecompressed_ResourceExhausted()
    {
        await using var server = await TestServer.StartAsync(("Server:MaxReceiveMessageBytes", "4096"));
        var gzip = new MemoryStream();
        using (var compress = new System.IO.Compression.GZipStream(gzip, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            compress.Write(Pad(Valid(), 100_000));
        }

        var (status, message) = await PostAsync(server, Frame(gzip.ToArray(), flag: 1), ("grpc-encoding", "gzip"));

        Assert.True(status == StatusCode.ResourceExhausted, $"{status} {message}");
        Assert.Equal("request body: the gzip message decompresses to more than the limit of 4096 bytes (Server:MaxReceiveMessageBytes)", message);
    }

    [Fact]
    public async Task Generate_GzipMessage_Served()
    {
        await using var server = await TestServer.StartAsync();
        var gzip = new MemoryStream();
        using (var compress = new System.IO.Compression.GZipStream(gzip, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            compress.Write(Valid().ToByteArray());
        }

        var (status, message) = await PostAsync(server, Frame(gzip.ToArray(), flag: 1), ("grpc-encoding", "gzip"));

        Assert.True(status == StatusCode.OK, $"{status} {message}");
    }

    [Fact]
    public async Task Generate_MessageOverTheReceiveLimit_ResourceExhaustedNamingTheLimit()
    {
        await using var server = await TestServer.StartAsync(("Server:MaxReceiveMessageBytes", "4096"));
        var request = Valid();
        request.RequestId = new string('r', 200);
        var padded = Pad(request, 5000);

        var (status, message) = await PostAsync(server, Frame(padded));

        Assert.Equal(StatusCode.ResourceExhausted, status);
        Assert.Equal("request body: the message is 5000 bytes, over the limit of 4096 bytes (Server:MaxReceiveMessageBytes)", message);
    }

    [Fact]
    public async Task Generate_MessageOverKestrelsDefaultBodyLimitButUnderTheReceiveLimit_Served()
    {
        // Kestrel's default body limit is 30,000,000 bytes; the receive limit's default is 64 MiB.
        await using var server = await TestServer.StartAsync();
        var padded = Pad(Valid(), 31_000_000);

        var (status, message) = await PostAsync(server, Frame(padded));

        Assert.True(status == StatusCode.OK, $"{status} {message}");
    }

    [Fact]
    public async Task Generate_FloodOfMalformedCalls_LogsOneLineEachAtMostTenASecond()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();
        var logs = new CapturedLogs();
        server.App.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);

        for (int i = 0; i < 30; i++)
        {
            Assert.Equal(StatusCode.InvalidArgument, (await PostAsync(server, Frame([0x0f]))).Status);
        }

        server.Fake.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(StatusCode.InvalidArgument, (await PostAsync(server, Frame(new byte[3], declared: 9))).Status);

        var lines = logs.Lines.Where(l => l.Contains(GeneratePath, StringComparison.Ordinal)).ToList();
        Assert.Equal(11, lines.Count);
        Assert.All(lines, l => Assert.DoesNotContain('\n', l));
        Assert.Contains("ended InvalidArgument: request body: not a valid GenerateRequest (1 bytes)", lines[0], StringComparison.Ordinal);
        Assert.Contains("(20 such lines left out before this one)", lines[10], StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("Exception", StringComparison.Ordinal));
    }

    private static GenerateRequest Valid() => new() { PromptTokens = 10, MaxTokens = 1 };

    /// <summary>The request with an unknown field (number 1000) that makes its encoding exactly <paramref name="bytes"/> long.</summary>
    private static byte[] Pad(GenerateRequest request, int bytes)
    {
        byte[] encoded = request.ToByteArray();
        // Tag of field 1000 (length-delimited) is 2 bytes; the length varint is 1 to 4 bytes for these sizes.
        for (int varint = 1; varint <= 4; varint++)
        {
            int payload = bytes - encoded.Length - 2 - varint;
            if (payload >= 0 && CodedOutputStream.ComputeLengthSize(payload) == varint)
            {
                var stream = new MemoryStream();
                stream.Write(encoded);
                var output = new CodedOutputStream(stream);
                output.WriteTag(1000, WireFormat.WireType.LengthDelimited);
                output.WriteBytes(ByteString.CopyFrom(new byte[payload]));
                output.Flush();
                Assert.Equal(bytes, stream.Length);
                return stream.ToArray();
            }
        }

        throw new ArgumentOutOfRangeException(nameof(bytes));
    }

    private static byte[] Frame(byte[] message, byte flag = 0, int? declared = null)
    {
        var frame = new byte[5 + message.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(declared ?? message.Length));
        message.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>POSTs <paramref name="body"/> as a gRPC call over HTTP/2 without TLS and returns the call's status.</summary>
    private static async Task<(StatusCode Status, string Message)> PostAsync(TestServer server, byte[] body, params (string Name, string Value)[] headers)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://127.0.0.1:{server.Port}{GeneratePath}"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        var status = Header(response.Headers, "grpc-status") ?? Header(response.TrailingHeaders, "grpc-status");
        var message = Header(response.Headers, "grpc-message") ?? Header(response.TrailingHeaders, "grpc-message") ?? "";
        Assert.True(status is not null, $"no grpc-status; HTTP {(int)response.StatusCode}");
        return ((StatusCode)int.Parse(status!, System.Globalization.CultureInfo.InvariantCulture), Uri.UnescapeDataString(message));
    }

    private static string? Header(HttpHeaders headers, string name) => headers.TryGetValues(name, out var values) ? values.First() : null;

    private sealed class CapturedLogs : ILoggerProvider
    {
        public ConcurrentQueue<string> Queue { get; } = new();

        public IEnumerable<string> Lines => Queue;

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLogs owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Queue.Enqueue(formatter(state, exception) + (exception is null ? "" : "\n" + exception));
        }
    }
}
