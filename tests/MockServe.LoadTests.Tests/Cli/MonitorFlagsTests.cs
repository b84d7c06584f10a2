using System.Net;
using System.Net.Sockets;

using MockServe.LoadTests.Cli;
using MockServe.LoadTests.Live;
using MockServe.LoadTests.Telemetry;

using Prometheus;

namespace MockServe.LoadTests.Tests.Cli;

public class MonitorFlagsTests
{
    [Fact]
    public void Run_BadProgressAndMetricsPort_ExitTwoNamingEachFlagBeforeAnyLoad()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        int exit = LoadCli.Run(["run", "--scenario", "burst", "--progress", "fancy", "--metrics-port", "70000"], output, error);

        Assert.Equal(2, exit);
        string text = error.ToString();
        Assert.Contains("error: --progress is \"fancy\": expected auto, plain, live or none", text, StringComparison.Ordinal);
        Assert.Contains("error: --metrics-port is \"70000\": must be 0 (off) or 1 to 65535", text, StringComparison.Ordinal);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void Run_NegativeMetricsPort_ExitTwoNamingTheFlag()
    {
        var error = new StringWriter();

        int exit = LoadCli.Run(["run", "--scenario", "burst", "--metrics-port", "-1"], new StringWriter(), error);

        Assert.Equal(2, exit);
        Assert.Contains("error: --metrics-port is \"-1\": must be 0 (off) or 1 to 65535", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("auto", typeof(PlainProgress))]
    [InlineData("plain", typeof(PlainProgress))]
    [InlineData("live", typeof(LiveTable))]
    public void Monitors_OutputNotTheConsole_TheDisplayAskedForAutoBeingPlain(string progress, Type display)
    {
        var monitors = MonitorFlags.Monitors(progress, new StringWriter(), metrics: null);

        Assert.Equal(display, Assert.Single(monitors).GetType());
    }

    [Fact]
    public void Monitors_NoneWithMetrics_OnlyTheMetrics()
    {
        var monitors = MonitorFlags.Monitors("none", new StringWriter(), Metrics.NewCustomRegistry());

        Assert.IsType<ClientMetrics>(Assert.Single(monitors));
    }

    [Fact]
    public void StartMetrics_PortTaken_WarnsNamingTheFlagAndGoesOnWithout()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var error = new StringWriter();

        var server = MonitorFlags.StartMetrics(port, Metrics.NewCustomRegistry(), error);

        Assert.Null(server);
        Assert.StartsWith($"warning: --metrics-port: cannot listen on 127.0.0.1:{port} (", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void StartMetrics_PortZero_Off()
    {
        var error = new StringWriter();

        Assert.Null(MonitorFlags.StartMetrics(0, Metrics.NewCustomRegistry(), error));
        Assert.Equal("", error.ToString());
    }

    [Fact]
    public void Run_MetricsHostNotAnIpAddress_ExitTwoNamingTheFlag()
    {
        var error = new StringWriter();

        int exit = LoadCli.Run(["run", "--scenario", "burst", "--metrics-host", "prometheus"], new StringWriter(), error);

        Assert.Equal(2, exit);
        Assert.Contains("error: --metrics-host is \"prometheus\": expected an IP address such as 127.0.0.1 or 0.0.0.0", error.ToString(), StringComparison.Ordinal);
    }

    // 127.0.0.2 is this machine too (all of 127.0.0.0/8 is loopback on Linux), but a socket bound to 127.0.0.1 does not
    // answer there: it tells "every interface" from "loopback only" without leaving the machine.
    [Fact]
    public async Task StartMetrics_AnyAddress_AnswersOnAnAddressOtherThan127001()
    {
        int port = FreePort();

        await using var server = MonitorFlags.StartMetrics(port, Metrics.NewCustomRegistry(), new StringWriter(), "0.0.0.0");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync(new Uri($"http://127.0.0.2:{port}/metrics"));

        Assert.Equal($"http://0.0.0.0:{port}/metrics", server!.Address.ToString());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task StartMetrics_DefaultHost_RefusesOtherAddresses()
    {
        int port = FreePort();

        await using var server = MonitorFlags.StartMetrics(port, Metrics.NewCustomRegistry(), new StringWriter());
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        Assert.Equal($"http://127.0.0.1:{port}/metrics", server!.Address.ToString());
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(new Uri($"http://127.0.0.2:{port}/metrics")));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
