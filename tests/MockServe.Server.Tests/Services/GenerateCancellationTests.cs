using Grpc.Core;

using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

using MockServe.Contracts.V1;
using MockServe.Server.Services;
using MockServe.Server.Tests.Integration;

namespace MockServe.Server.Tests.Services;

[Collection(TestServer.Collection)]
public class GenerateCancellationTests
{
    [Theory]
    [InlineData(StatusCode.OK, StatusCode.Cancelled)]
    // grpc-dotnet records an expired deadline in the call's status before it cancels the call's token.
    [InlineData(StatusCode.DeadlineExceeded, StatusCode.DeadlineExceeded)]
    public async Task Generate_CallEndsWhileTheTextIsCounted_CancelledOrDeadlineExceededAndCounted(StatusCode callStatus, StatusCode expected)
    {
        await using var server = await TestServer.StartOnFakeClockAsync();
        var service = ActivatorUtilities.CreateInstance<InferenceGrpcService>(server.App.Services);
        using var ended = new CancellationTokenSource();
        await ended.CancelAsync();
        var context = new TestCallContext(ended.Token, new Status(callStatus, ""));
        var writer = new RecordingWriter();

        var ex = await Assert.ThrowsAsync<RpcException>(() => service.Generate(
            new GenerateRequest { Text = string.Concat(Enumerable.Repeat("hello world ", 1000)), MaxTokens = 10 }, writer, context));

        Assert.Equal(expected, ex.StatusCode);
        Assert.Empty(writer.Written);
        Assert.Contains("mockserve_requests_total{outcome=\"cancelled\"} 1", await server.ScrapeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_WriterCompletedBeforeTheTokenReadsCancelled_CancelledAndTheRequestFreed()
    {
        // grpc-dotnet completes the response at a deadline or reset and may cancel the call's token only after: the write
        // throws InvalidOperationException, which once reached the log as the handler's error, with its stack trace.
        await using var server = await TestServer.StartAsync(("Server:TimeScale", "0.01"));
        var service = ActivatorUtilities.CreateInstance<InferenceGrpcService>(server.App.Services);
        var context = new TestCallContext(CancellationToken.None, Status.DefaultSuccess);

        var ex = await Assert.ThrowsAsync<RpcException>(() => service.Generate(
            new GenerateRequest { PromptTokens = 100, MaxTokens = 1000 }, new CompletedWriter(), context));

        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        await server.WaitForPoolAsync(p => p.RequestsRunning == 0 && p.RequestsWaiting == 0);
    }

    private sealed class CompletedWriter : IServerStreamWriter<GenerateResponse>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(GenerateResponse message) => throw new InvalidOperationException("Writing is not allowed after writer was completed.");
    }

    private sealed class RecordingWriter : IServerStreamWriter<GenerateResponse>
    {
        public List<GenerateResponse> Written { get; } = [];

        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(GenerateResponse message)
        {
            Written.Add(message);
            return Task.CompletedTask;
        }
    }

    /// <summary>The call as grpc-dotnet hands it to a service, with the cancellation token and status a test sets.</summary>
    private sealed class TestCallContext(CancellationToken cancellationToken, Status status) : ServerCallContext
    {
        protected override string MethodCore => "/mockserve.v1.InferenceService/Generate";

        protected override string HostCore => "127.0.0.1";

        protected override string PeerCore => "ipv4:127.0.0.1:1";

        protected override DateTime DeadlineCore => DateTime.MaxValue;

        protected override Metadata RequestHeadersCore { get; } = [];

        protected override CancellationToken CancellationTokenCore => cancellationToken;

        protected override Metadata ResponseTrailersCore { get; } = [];

        protected override Status StatusCore { get; set; } = status;

        protected override WriteOptions? WriteOptionsCore { get; set; }

        protected override AuthContext AuthContextCore => new(null, []);

        // grpc-dotnet's GetHttpContext() finds a call's HttpContext here when no ASP.NET Core host made the call.
        protected override IDictionary<object, object> UserStateCore { get; } = new Dictionary<object, object> { ["__HttpContext"] = new DefaultHttpContext() };

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
