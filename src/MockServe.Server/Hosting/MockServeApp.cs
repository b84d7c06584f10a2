using System.Net;

using Grpc.AspNetCore.HealthChecks;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Failures;
using MockServe.Server.Metrics;
using MockServe.Server.Services;
using MockServe.Server.Text;

using Prometheus;

namespace MockServe.Server.Hosting;

/// <summary>A configuration value that cannot be used; the message names the setting and what is wrong.</summary>
public sealed class ConfigurationException(string message) : Exception(message);

/// <summary>Builds the gRPC server: settings from appsettings.json, environment variables and command-line overrides.</summary>
public static class MockServeApp
{
    public const string ReadyService = "mockserve.v1.InferenceService";

    /// <param name="overrides">Configuration keys (MockServe:Server:Port, ...) that win over every other source.</param>
    /// <param name="time">The clock behind model time; the system clock unless a test passes its own.</param>
    /// <exception cref="ConfigurationException">A setting is unusable.</exception>
    public static WebApplication Build(IReadOnlyDictionary<string, string?> overrides, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(overrides);
        var config = builder.Configuration;

        var server = Bind<ServerOptions>(config, ServerOptions.Section);
        var profile = Bind<ProfileOptions>(config, ProfileOptions.Section);
        var engine = Bind<EngineOptions>(config, "MockServe:Engine");
        var failures = Bind<FailureInjectionOptions>(config, FailureInjectionOptions.Section);
        var errors = server.Validate().Select(e => $"{ServerOptions.Section}:{e}")
            .Concat(failures.Validate().Select(e => $"{FailureInjectionOptions.Section}:{e}"))
            .Concat(engine.Validate().Select(e => $"MockServe:Engine:{e}"))
            .ToList();
        if (errors.Count > 0)
        {
            throw new ConfigurationException(string.Join(Environment.NewLine, errors));
        }

        var deployment = BuildDeployment(profile);
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new ServerMetrics(Prometheus.Metrics.WithCustomRegistry(registry), new ServerMetricsInfo(
            Version: typeof(MockServeApp).Assembly.GetName().Version?.ToString(3) ?? "",
            Model: deployment.Model.Id,
            Gpu: deployment.Gpu.Id,
            TensorParallel: deployment.TensorParallel,
            Scheduler: engine.Scheduler,
            TimeScale: server.TimeScale,
            MaxConcurrentUsers: new Core.CostModel.GpuCostModel(deployment).MaxConcurrentUsers(server.ReferenceContextTokens),
            ExportVllmNames: server.VllmMetrics));
        var host = new EngineHost(deployment, engine, server.TimeScale, time ?? TimeProvider.System, metrics);
        registry.AddBeforeCollectCallback(() => metrics.UpdatePool(host.Engine.Snapshot()));

        var services = builder.Services;
        services.AddSingleton(Options.Create(server));
        services.AddSingleton(Options.Create(failures));
        services.AddSingleton(host);
        services.AddSingleton(PromptTokenizers.Create(server.Tokenizer));
        services.AddSingleton(new TokenText(server.Seed, server.TokenText == "echo"));
        services.AddSingleton(new FailureInjector(failures, server.Seed));
        services.AddHostedService<DrainService>();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(server.DrainSeconds + 5));
        services.AddGrpc(o => o.MaxReceiveMessageSize = server.MaxReceiveMessageBytes);
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks(o =>
        {
            // The empty service name is liveness; the inference service's name is readiness (NOT_SERVING while draining).
            o.Services.Clear();
            o.Services.Map("", r => r.Tags.Contains("live"));
            o.Services.Map(ReadyService, r => r.Tags.Contains("ready"));
        })
            .AddCheck("live", () => HealthCheckResult.Healthy(), ["live"])
            .AddCheck("ready", () => host.IsDraining ? HealthCheckResult.Unhealthy("draining") : HealthCheckResult.Healthy(), ["ready"]);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });

        var bind = IPAddress.Parse(server.BindAddress);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(bind, server.Port, l => l.Protocols = HttpProtocols.Http2);
            k.Listen(bind, server.MetricsPort, l => l.Protocols = HttpProtocols.Http1);
            k.Limits.Http2.MaxStreamsPerConnection = server.MaxStreamsPerConnection;
        });

        var app = builder.Build();
        // ServerMetrics writes the exposition itself: prometheus-net refuses the ':' of vLLM's names.
        app.MapWhen(c => c.Connection.LocalPort == server.MetricsPort && c.Request.Path == "/metrics", b => b.Run(async c =>
        {
            c.Response.ContentType = PrometheusConstants.TextContentTypeWithVersionAndEncoding;
            await ServerMetrics.ExportTextAsync(registry, c.Response.Body, c.RequestAborted);
        }));
        app.MapGrpcService<InferenceGrpcService>();
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
        app.Lifetime.ApplicationStarted.Register(() => Log.Serving(
            app.Logger,
            $"{deployment.Model.Id} on {deployment.TensorParallel} x {deployment.Gpu.Id}",
            $"{server.BindAddress}:{server.Port}",
            $"http://{server.BindAddress}:{server.MetricsPort}/metrics",
            engine.Scheduler,
            server.TimeScale));
        app.Lifetime.ApplicationStopped.Register(host.Dispose);
        return app;
    }

    private static T Bind<T>(IConfiguration config, string section)
        where T : class, new()
    {
        try
        {
            return config.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException($"{section}: {ex.Message}");
        }
    }

    private static Deployment BuildDeployment(ProfileOptions p)
    {
        Deployment deployment;
        try
        {
            deployment = new Deployment
            {
                Model = ProfileCatalog.ResolveModel(p.Model),
                Gpu = ProfileCatalog.ResolveGpu(p.Gpu),
                Efficiency = new Efficiency { PrefillComputeUtilization = p.PrefillUtilization, DecodeBandwidthUtilization = p.DecodeUtilization },
                Compression = new KvCompression { LayersKept = p.KvLayers, HeadsKept = p.KvHeads, TokensKept = p.KvTokens, Bits = p.KvBits },
            };
        }
        catch (ProfileException ex)
        {
            throw new ConfigurationException($"{ProfileOptions.Section}: {ex.Message}");
        }

        if (p.TensorParallel is { } tp)
        {
            deployment = deployment with { TensorParallel = tp };
        }

        var errors = deployment.Validate();
        return errors.Count == 0
            ? deployment
            : throw new ConfigurationException(string.Join(Environment.NewLine, errors.Select(e => $"{ProfileOptions.Section}: {e}")));
    }
}

/// <summary>
/// At shutdown, before any service stops (Kestrel included): refuse new requests, report NOT_SERVING, and wait
/// for the streams in flight, at most DrainSeconds.
/// </summary>
internal sealed class DrainService(EngineHost host, IOptions<ServerOptions> options, ILogger<DrainService> logger) : IHostedLifecycleService
{
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
    }
}
