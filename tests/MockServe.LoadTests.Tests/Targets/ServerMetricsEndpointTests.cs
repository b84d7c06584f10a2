using Grpc.Core;

using MockServe.Contracts.V1;
using MockServe.LoadTests.Cli;
using MockServe.LoadTests.Targets;

namespace MockServe.LoadTests.Tests.Targets;

public class ServerMetricsEndpointTests
{
    private static readonly Uri Target = new("http://10.0.0.5:50051");

    [Fact]
    public async Task ResolveAsync_TargetReportsItsMetricsPort_ThatPortOnTheTargetsHost()
    {
        var output = new StringWriter();

        var url = await ServerMetricsEndpoint.ResolveAsync(null, null, Target, Answering(new GetServerInfoResponse { MetricsPort = 9464 }), output);

        Assert.Equal(new Uri("http://10.0.0.5:9464/metrics"), url);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public async Task ResolveAsync_TlsTarget_HttpsOnItsIpv6Host()
    {
        var url = await ServerMetricsEndpoint.ResolveAsync(null, null, new Uri("https://[::1]:50051"), Answering(new GetServerInfoResponse { MetricsPort = 9464 }), new StringWriter());

        Assert.Equal(new Uri("https://[::1]:9464/metrics"), url);
    }

    [Fact]
    public async Task ResolveAsync_NotAMockserve_NoUrlAndOneLine()
    {
        var output = new StringWriter();

        var url = await ServerMetricsEndpoint.ResolveAsync(null, null, Target, Failing(StatusCode.Unimplemented), output);

        Assert.Null(url);
        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("server metrics: http://10.0.0.5:50051/ does not answer mockserve's GetServerInfo", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_TargetUnavailable_NoUrlAndOneLineWithTheStatus()
    {
        var output = new StringWriter();

        var url = await ServerMetricsEndpoint.ResolveAsync(null, null, Target, Failing(StatusCode.Unavailable), output);

        Assert.Null(url);
        Assert.Contains("failed (Unavailable: ", Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_MetricsPortZero_NoUrlAndOneLine()
    {
        var output = new StringWriter();

        var url = await ServerMetricsEndpoint.ResolveAsync(null, null, Target, Answering(new GetServerInfoResponse()), output);

        Assert.Null(url);
        Assert.Contains("reports no metrics port", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_Flag_OverridesTheEmbeddedServerAndAsksNothing()
    {
        var embedded = new Uri("http://127.0.0.1:1234/metrics");
        var client = Failing(StatusCode.Internal);

        Assert.Equal(new Uri("http://127.0.0.1:9000/m"), await ServerMetricsEndpoint.ResolveAsync("http://127.0.0.1:9000/m", embedded, Target, client, new StringWriter()));
        Assert.Null(await ServerMetricsEndpoint.ResolveAsync(ServerMetricsEndpoint.None, embedded, Target, client, new StringWriter()));
        Assert.Equal(embedded, await ServerMetricsEndpoint.ResolveAsync(null, embedded, Target, client, new StringWriter()));
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/metrics")]
    [InlineData("127.0.0.1:9464")]
    [InlineData("off")]
    public void TryParseFlag_NotAnHttpUrlNorNone_ErrorNamingTheForms(string text)
    {
        Assert.False(ServerMetricsEndpoint.TryParseFlag(text, out _, out string? error));
        Assert.Equal("expected an http or https URL such as http://127.0.0.1:9464/metrics, or none", error);
    }

    [Fact]
    public void Run_BadTargetMetrics_ExitTwoNamingTheFlag()
    {
        var error = new StringWriter();

        int exit = LoadCli.Run(["run", "--scenario", "burst", "--target-metrics", "off"], new StringWriter(), error);

        Assert.Equal(2, exit);
        Assert.Contains("error: --target-metrics is \"off\": expected an http or https URL", error.ToString(), StringComparison.Ordinal);
    }

    private static InferenceService.InferenceServiceClient Answering(GetServerInfoResponse response) => new(new InfoInvoker(() => response));

    private static InferenceService.InferenceServiceClient Failing(StatusCode status) =>
        new(new InfoInvoker(() => throw new RpcException(new Status(status, "scripted"))));

    /// <summary>Answers GetServerInfo (and only it) without a server.</summary>
    private sealed class InfoInvoker(Func<GetServerInfoResponse> answer) : CallInvoker
    {
        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        {
            Assert.Equal("GetServerInfo", method.Name);
            Task<TResponse> response;
            try
            {
                response = Task.FromResult((TResponse)(object)answer());
            }
            catch (RpcException e)
            {
                response = Task.FromException<TResponse>(e);
            }

            return new AsyncUnaryCall<TResponse>(response, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
        }

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
            throw new NotSupportedException();

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
            throw new NotSupportedException();

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
            throw new NotSupportedException();

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
            throw new NotSupportedException();
    }
}
