using System.Globalization;
using System.Net;
using System.Net.Sockets;

using Microsoft.AspNetCore.Builder;

using MockServe.Server.Hosting;

namespace MockServe.LoadTests.Targets;

/// <summary>
/// The default target: a mockserve server in this process on free loopback ports, with its built-in profile unless
/// settings say otherwise, so that one command on a fresh clone runs the whole story.
/// </summary>
public sealed class EmbeddedServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmbeddedServer(WebApplication app, int port, int metricsPort)
    {
        _app = app;
        Address = new Uri($"http://127.0.0.1:{port}");
        MetricsAddress = new Uri($"http://127.0.0.1:{metricsPort}/metrics");
    }

    public Uri Address { get; }

    public Uri MetricsAddress { get; }

    /// <param name="settings">Configuration keys below MockServe: (Server:TimeScale, Profile:Model, ...).</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">A setting is unusable.</exception>
    public static async Task<EmbeddedServer> StartAsync(IReadOnlyDictionary<string, string?> settings, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var (port, metricsPort) = FreePorts();
        var overrides = new Dictionary<string, string?>
        {
            ["MockServe:Server:Port"] = port.ToString(CultureInfo.InvariantCulture),
            ["MockServe:Server:MetricsPort"] = metricsPort.ToString(CultureInfo.InvariantCulture),
            // The driver speaks gRPC; port 8000 may be another server's (or another embedded run's).
            ["MockServe:Server:HttpPort"] = "0",
            ["MockServe:Server:BindAddress"] = "127.0.0.1",
            // The load driver owns the console: the server only speaks up for warnings.
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            overrides["MockServe:" + key] = value;
        }

        var app = MockServeApp.Build(overrides);
        await app.StartAsync(ct);
        return new EmbeddedServer(app, port, metricsPort);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Two distinct free ports: both listeners stay open until both are known.</summary>
    private static (int Grpc, int Metrics) FreePorts()
    {
        using var first = new TcpListener(IPAddress.Loopback, 0);
        using var second = new TcpListener(IPAddress.Loopback, 0);
        first.Start();
        second.Start();
        return (((IPEndPoint)first.LocalEndpoint).Port, ((IPEndPoint)second.LocalEndpoint).Port);
    }
}
