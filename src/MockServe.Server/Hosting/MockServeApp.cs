using System.Net;

using Grpc.AspNetCore.HealthChecks;
using Grpc.AspNetCore.Server;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Configuration;
using MockServe.Server.Failures;
using MockServe.Server.Metrics;
using MockServe.Server.OpenAi;
using MockServe.Server.Protocol;
using MockServe.Server.Security;
using MockServe.Server.Services;
using MockServe.Server.Services.Triton;
using MockServe.Server.Text;

using Prometheus;

namespace MockServe.Server.Hosting;

/// <summary>Builds the gRPC server from the validated settings (appsettings.json, environment variables, flags).</summary>
public static class MockServeApp
{
    public const string ReadyService = "mockserve.v1.InferenceService";

    /// <summary>The server with appsettings.json next to the binary and the process's environment variables.</summary>
    /// <param name="overrides">Configuration keys (MockServe:Server:Port, ...) that win over every other source.</param>
    /// <param name="time">The clock behind model time; the system clock unless a test passes its own.</param>
    /// <exception cref="OptionsValidationException">A setting is unusable (see <see cref="Build(SettingSources, IEnumerable{ConfigurationEntry}, TimeProvider?)"/>).</exception>
    public static WebApplication Build(IReadOnlyDictionary<string, string?> overrides, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        return Build(SettingSources.FromProcess(), overrides.Select(o => new ConfigurationEntry(o.Key, o.Value, o.Key)), time);
    }

    /// <param name="sources">appsettings.json and the environment variables.</param>
    /// <param name="overrides">Values that win over <paramref name="sources"/>: the flags given on the command line.</param>
    /// <param name="time">The clock behind model time; the system clock unless a test passes its own.</param>
    /// <exception cref="OptionsValidationException">
    /// A setting is unusable; <see cref="OptionsValidationException.Failures"/> holds one line per problem. An
    /// <see cref="AggregateException"/> of them when several sections are wrong.
    /// </exception>
    /// <exception cref="SettingsFileException">appsettings.json cannot be parsed.</exception>
    public static WebApplication Build(SettingSources sources, IEnumerable<ConfigurationEntry> overrides, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        WebApplicationBuilder builder;
        try
        {
            builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        }
        catch (InvalidDataException ex)
        {
            // The web defaults parse appsettings.json before they are replaced below: a file they cannot read is the user's to fix.
            throw SettingsFileException.From(ex);
        }

        // The web defaults read appsettings.json and the environment too; one pipeline serves every command.
        builder.Configuration.Sources.Clear();
        sources.AddTo(builder.Configuration, overrides);

        var services = builder.Services;
        Settings.AddTo(services, Settings.All);
        var registry = Prometheus.Metrics.NewCustomRegistry();
        AddEngine(services, registry, time ?? TimeProvider.System);
        SecurityServices.AddTo(services);

        // The host reads HostOptions while it is built, and it builds its hosted services (Kestrel reads its
        // endpoints then) before its StartAsync runs the startup validator that ValidateOnStart fills. That
        // validator therefore runs here, at the first read of a setting: every bad setting of every section is
        // reported at once, before anything listens, and the host's own call finds them valid.
        services.AddOptions<HostOptions>().Configure<IStartupValidator, IOptions<ServerOptions>>((o, validator, server) =>
        {
            validator.Validate();
            // The drain ends every stream at DrainSeconds; the second after it is for ending them and closing connections.
            o.ShutdownTimeout = TimeSpan.FromSeconds(server.Value.DrainSeconds + 1);
        });
        // A transport for the OpenAI port's h2c connections; Kestrel's sockets still bind every IP endpoint.
        services.AddSingleton(sp => new CleartextHttp2Handoff(TimeProvider.System, sp.GetRequiredService<ILogger<CleartextHttp2Handoff>>()));
        services.AddSingleton<IConnectionListenerFactory>(sp => sp.GetRequiredService<CleartextHttp2Handoff>());
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<ServerOptions>, ServerTls, CleartextHttp2Handoff>((k, options, tls, h2c) =>
        {
            var server = options.Value;
            var bind = IPAddress.Parse(server.BindAddress);
            k.Listen(bind, server.Port, l => tls.Use(l, HttpProtocols.Http2));
            k.Listen(bind, server.MetricsPort, l => tls.Use(l, HttpProtocols.Http1));
            if (server.HttpPort != 0 && tls.IsEnabled)
            {
                // ALPN picks HTTP/1.1 or HTTP/2.
                k.Listen(bind, server.HttpPort, l => tls.Use(l, HttpProtocols.Http1AndHttp2));
            }
            else if (server.HttpPort != 0)
            {
                // Without TLS Kestrel serves HTTP/1.1 alone on an endpoint for both: the HTTP/2 preface is told apart
                // in front of it, and those connections go to an HTTP/2 endpoint of their own (CleartextHttp2Handoff).
                k.Listen(bind, server.HttpPort, l =>
                {
                    l.Protocols = HttpProtocols.Http1;
                    h2c.Sniff(l, k.Limits.RequestHeadersTimeout);
                });
                k.Listen(h2c.EndPoint, l => l.Protocols = HttpProtocols.Http2);
            }

            k.Limits.Http2.MaxStreamsPerConnection = server.MaxStreamsPerConnection;
            // One message header and the largest message; Kestrel's default (30,000,000 bytes) cut calls below the limit.
            k.Limits.MaxRequestBodySize = server.MaxReceiveMessageBytes + (long)GrpcCallGuard.FrameHeaderBytes;
        });
        // Each server-sent event leaves in its own segment as it is written (Kestrel's default, stated because tokens depend on it).
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(o => o.NoDelay = true);
        services.AddSingleton<OpenAiEndpoints>();
        services.AddGrpc();
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<ServerOptions>>((o, server) => o.MaxReceiveMessageSize = server.Value.MaxReceiveMessageBytes);
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks(o =>
        {
            // The empty service name is liveness; the inference service's name is readiness (NOT_SERVING while draining).
            o.Services.Clear();
            o.Services.Map("", r => r.Tags.Contains("live"));
            o.Services.Map(ReadyService, r => r.Tags.Contains("ready"));
        })
            .AddCheck("live", () => HealthCheckResult.Healthy(), ["live"])
            .AddCheck<ReadyCheck>("ready", tags: ["ready"]);
        // grpc-dotnet logs every non-OK status at Information, one line per call: the call guard logs the malformed ones, rate-limited.
        builder.Logging.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", LogLevel.Warning);
        // The health service logs an unhealthy check at Error, once per probe: NOT_SERVING while warming up or draining is by design.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService", LogLevel.Critical);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });

        var app = builder.Build();
        var server = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value;
        // Built before the first request, as they always were: the engine's clock starts, the o200k tokenizer loads.
        app.Services.GetRequiredService<EngineHost>();
        app.Services.GetRequiredService<IPromptTokenizer>();
        SecurityServices.Use(app);
        // ServerMetrics writes the exposition itself: prometheus-net refuses the ':' of vLLM's names.
        async Task Scrape(HttpContext c)
        {
            c.Response.ContentType = PrometheusConstants.TextContentTypeWithVersionAndEncoding;
            await MetricsExposition.ExportTextAsync(registry, c.Response.Body, c.RequestAborted);
        }

        app.MapWhen(c => c.Connection.LocalPort == server.MetricsPort && c.Request.Path == "/metrics", b => b.Run(Scrape));
        if (server.HttpPort != 0)
        {
            // Everything on the HTTP port is the OpenAI face's: no gRPC service is reached from it.
            var openAi = app.Services.GetRequiredService<OpenAiEndpoints>();
            app.MapWhen(c => c.Connection.LocalPort == server.HttpPort, b => b.Run(c => openAi.HandleAsync(c, Scrape)));
        }
        app.UseMiddleware<GrpcCallGuard>(server.MaxReceiveMessageBytes, app.Services.GetRequiredService<EngineHost>().Time);
        app.MapGrpcService<InferenceGrpcService>();
        app.MapGrpcService<TritonGrpcService>();
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var deployment = app.Services.GetRequiredService<Deployment>();
            string served = $"{deployment.Model.Id} on {deployment.TensorParallel} x {deployment.Gpu.Id}";
            Log.Serving(
                app.Logger,
                server.Replicas > 1 ? $"{server.Replicas} replicas (behind {server.Router}) of {served}" : served,
                $"{server.BindAddress}:{server.Port}",
                $"{app.Services.GetRequiredService<ServerTls>().Scheme}://{server.BindAddress}:{server.MetricsPort}/metrics",
                server.HttpPort == 0 ? "off" : $"{app.Services.GetRequiredService<ServerTls>().Scheme}://{server.BindAddress}:{server.HttpPort}/v1",
                app.Services.GetRequiredService<IOptions<EngineOptions>>().Value.Scheduler,
                server.TimeScale);
        });
        app.Lifetime.ApplicationStopped.Register(() => app.Services.GetRequiredService<EngineHost>().Dispose());
        return app;
    }

    /// <summary>The deployment, the engine host and what serves requests, all from the validated options.</summary>
    private static void AddEngine(IServiceCollection services, CollectorRegistry registry, TimeProvider time)
    {
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ProfileOptions>>().Value.ToDeployment());
        // The one place the engine host is built.
        services.AddSingleton(sp =>
        {
            var deployment = sp.GetRequiredService<Deployment>();
            var engine = sp.GetRequiredService<IOptions<EngineOptions>>().Value;
            var server = sp.GetRequiredService<IOptions<ServerOptions>>().Value;
            var cost = new Core.CostModel.GpuCostModel(deployment);
            var info = new ServerMetricsInfo(
                Version: typeof(MockServeApp).Assembly.GetName().Version?.ToString(3) ?? "",
                Model: deployment.Model.Id,
                Gpu: deployment.Gpu.Id,
                TensorParallel: deployment.TensorParallel,
                Scheduler: engine.Scheduler,
                TimeScale: server.TimeScale,
                MaxConcurrentUsers: cost.MaxConcurrentUsers(server.ReferenceContextTokens),
                ExportVllmNames: server.VllmMetrics,
                CostModel: cost,
                ReferenceContextTokens: server.ReferenceContextTokens);
            // One replica keeps the exposition it always had; several label every series with their replica.
            var metrics = Enumerable.Range(0, server.Replicas)
                .Select(i => new ServerMetrics(ServerMetrics.CreateFactory(registry, server.Replicas > 1 ? i : null), info))
                .ToArray();
            var host = new EngineHost(deployment, engine, server.TimeScale, time, metrics, server.Router, sp.GetRequiredService<ILogger<EngineHost>>());
            // The snapshots are commands to the engines' loops, read at the model time the scrape arrives; they move no token.
            registry.AddBeforeCollectCallback(async _ =>
            {
                var pools = await Task.WhenAll(host.Replicas.Select(r => r.Engine.SnapshotAsync()));
                for (int i = 0; i < pools.Length; i++)
                {
                    host.Replicas[i].Metrics.UpdatePool(pools[i]);
                }
            });
            return host;
        });
        services.AddSingleton(sp => PromptTokenizers.Create(sp.GetRequiredService<IOptions<ServerOptions>>().Value.Tokenizer));
        services.AddSingleton<WordIds>();
        services.AddSingleton(sp =>
        {
            var server = sp.GetRequiredService<IOptions<ServerOptions>>().Value;
            return new TokenText(server.Seed, server.TokenText == "echo");
        });
        services.AddSingleton(sp => new FailureInjector(
            sp.GetRequiredService<IOptions<FailureInjectionOptions>>().Value,
            sp.GetRequiredService<IOptions<ServerOptions>>().Value.Seed));
        services.AddSingleton(sp =>
        {
            string name = sp.GetRequiredService<IOptions<ServerOptions>>().Value.TritonModelName;
            return new TritonModel(name.Length > 0 ? name : sp.GetRequiredService<Deployment>().Model.Id);
        });
        services.AddHostedService<DrainService>();
        services.AddHostedService<WarmupService>();
    }
}

/// <summary>Readiness: NOT_SERVING while the server warms up and while it drains.</summary>
internal sealed class ReadyCheck(EngineHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            host.IsDraining ? HealthCheckResult.Unhealthy("draining")
            : host.IsReady ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("warming up"));
}

/// <summary>
/// At shutdown, before any service stops (Kestrel included): refuse new requests, report NOT_SERVING, and wait
/// for the streams in flight, at most DrainSeconds. Streams still open then end with UNAVAILABLE, each after the
/// tokens it had, so that no client is cut off by a connection reset when Kestrel stops.
/// </summary>
internal sealed class DrainService(EngineHost host, IOptions<ServerOptions> options, ILogger<DrainService> logger) : IHostedLifecycleService
{
    private static readonly TimeSpan EndGrace = TimeSpan.FromMilliseconds(500);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        double seconds = options.Value.DrainSeconds;
        if (host.InFlight > 0)
        {
            Log.Draining(logger, host.InFlight, seconds);
        }

        var drained = host.BeginDrain();
        await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(seconds), host.Time, cancellationToken));
        if (!drained.IsCompleted)
        {
            Log.DrainEnded(logger, host.InFlight, seconds);
            host.EndDrain();
            // Ending a stream is a write of its status: a moment, unless a client stopped reading (then Kestrel cuts it).
            await Task.WhenAny(drained, Task.Delay(EndGrace, host.Time, cancellationToken));
        }
    }
}
