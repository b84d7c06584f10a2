using Prometheus;

namespace MockServe.LoadTests.Telemetry;

/// <summary>Serves a registry's metrics at <c>http://127.0.0.1:PORT/metrics</c> while a run goes, loopback only.</summary>
public sealed class ClientMetricsServer : IAsyncDisposable
{
    /// <summary>The port <c>--metrics-port</c> defaults to: beside Prometheus's own exporters (9100 node, 9464 OpenTelemetry).</summary>
    public const int DefaultPort = 9465;

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
    public static ClientMetricsServer Start(int port, CollectorRegistry registry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65_535);
        ArgumentNullException.ThrowIfNull(registry);
        var server = new KestrelMetricServer("127.0.0.1", port, "/metrics", registry);
        server.Start();
        return new ClientMetricsServer(server, new Uri($"http://127.0.0.1:{port}/metrics"));
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        _server.Dispose();
    }
}
