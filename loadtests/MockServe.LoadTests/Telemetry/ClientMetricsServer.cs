using System.Net;
using System.Net.Sockets;

using Prometheus;

namespace MockServe.LoadTests.Telemetry;

/// <summary>
/// Serves a registry's metrics at <c>http://HOST:PORT/metrics</c> while a run goes: loopback only unless the caller
/// names another address (in a container Prometheus scrapes from outside, so there it is 0.0.0.0).
/// </summary>
public sealed class ClientMetricsServer : IAsyncDisposable
{
    /// <summary>The port <c>--metrics-port</c> defaults to: beside Prometheus's own exporters (9100 node, 9464 OpenTelemetry).</summary>
    public const int DefaultPort = 9465;

    /// <summary>The address <c>--metrics-host</c> defaults to: nothing off this machine can read the metrics.</summary>
    public const string DefaultHost = "127.0.0.1";

    private readonly KestrelMetricServer _server;

    private ClientMetricsServer(KestrelMetricServer server, Uri address)
    {
        _server = server;
        Address = address;
    }

    /// <summary>Where the metrics are served.</summary>
    public Uri Address { get; }

    /// <summary>Starts serving <paramref name="registry"/> on <paramref name="port"/> of 127.0.0.1.</summary>
    /// <exception cref="IOException">The port is taken (Kestrel's bind failure).</exception>
    public static ClientMetricsServer Start(int port, CollectorRegistry registry) => Start(IPAddress.Loopback, port, registry);

    /// <summary>Starts serving <paramref name="registry"/> on <paramref name="port"/> of <paramref name="host"/> (0.0.0.0: every interface).</summary>
    /// <exception cref="IOException">The port is taken (Kestrel's bind failure).</exception>
    public static ClientMetricsServer Start(IPAddress host, int port, CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65_535);
        ArgumentNullException.ThrowIfNull(registry);
        // A URL needs an IPv6 address in brackets; KestrelMetricServer builds one from the host text.
        string hostText = host.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{host}]" : host.ToString();
        var server = new KestrelMetricServer(hostText, port, "/metrics", registry);
        server.Start();
        return new ClientMetricsServer(server, new Uri($"http://{hostText}:{port}/metrics"));
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        _server.Dispose();
    }
}
