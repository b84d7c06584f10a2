using System.Globalization;
using System.Net;
using System.Net.Sockets;

using MockServe.Server.Tests.Integration;

namespace MockServe.Server.Tests.Cli;

/// <summary><c>mockserve serve</c> when it cannot start.</summary>
[Collection(TestServer.Collection)]
public sealed class ServeCommandTests
{
    [Fact]
    public void Serve_PortHeldByAnotherProcess_ExitOneNamingTheAddressNotACrash()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        string port = ((IPEndPoint)holder.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);

        var run = CliRun.Of("serve", "--port", port, "--metrics-port", "0", "--http-port", "0");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"error: Failed to bind to address http://127.0.0.1:{port}: address already in use: choose another port", run.Error, StringComparison.Ordinal);
    }
}
