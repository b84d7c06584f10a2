using System.Net;
using System.Net.Sockets;

using MockServe.Server.Tests.Integration;

namespace MockServe.Server.Tests.Cli;

/// <summary><c>mockserve probe</c>, the container health check, against a real server on loopback.</summary>
[Collection(TestServer.Collection)]
public sealed class ProbeCommandTests
{
    // The default 3 s is for a container's health check; a first call from a busy test machine (a new channel, code
    // not yet compiled, the other core busy) took longer once in CI. These tests are not about the timeout.
    private const string GenerousTimeout = "60s";

    [Fact]
    public async Task Probe_ReadyServer_ExitZeroSayingServing()
    {
        await using var server = await TestServer.StartAsync();

        var run = await Task.Run(() => CliRun.Of("probe", "--target", $"http://127.0.0.1:{server.Port}", "--timeout", GenerousTimeout));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal($"mockserve.v1.InferenceService at http://127.0.0.1:{server.Port}/: SERVING{Environment.NewLine}", run.Out);
        Assert.Equal("", run.Error);
    }

    [Fact]
    public async Task Probe_EmptyServiceName_ExitZeroForLiveness()
    {
        await using var server = await TestServer.StartAsync();

        var run = await Task.Run(() => CliRun.Of("probe", "--target", $"http://127.0.0.1:{server.Port}", "--service", "", "--timeout", GenerousTimeout));

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("\"\" at ", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_UnknownService_ExitOneWithNotFound()
    {
        await using var server = await TestServer.StartAsync();

        var run = await Task.Run(() => CliRun.Of("probe", "--target", $"http://127.0.0.1:{server.Port}", "--service", "no.such.Service", "--timeout", GenerousTimeout));

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"error: no.such.Service at http://127.0.0.1:{server.Port}/: NotFound (", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public void Probe_NothingListening_ExitOneWithUnavailable()
    {
        int port = ClosedPort();

        var run = CliRun.Of("probe", "--target", $"http://127.0.0.1:{port}", "--timeout", "10s");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"error: mockserve.v1.InferenceService at http://127.0.0.1:{port}/: Unavailable (", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://127.0.0.1:50051")]
    [InlineData("127.0.0.1:50051")]
    public void Probe_TargetNotHttpUrl_ExitOneNamingTheFlag(string target)
    {
        var run = CliRun.Of("probe", "--target", target);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: --target is \"{target}\": expected an http:// URL such as http://127.0.0.1:50051{Environment.NewLine}", run.Error);
    }

    // A port the kernel just handed out and nothing listens on any more: connecting to it is refused.
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
