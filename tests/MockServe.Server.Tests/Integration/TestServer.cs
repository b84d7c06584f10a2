using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using MockServe.Contracts.V1;
using MockServe.Server.Hosting;

namespace MockServe.Server.Tests.Integration;

/// <summary>The real server on loopback ports, with a client channel; disposed after each test.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    /// <summary>Tests that run real servers share one collection: they time real clocks on a 2-core machine.</summary>
    public const string Collection = "real servers";

    private readonly FakeTimeProvider? _fake;

    private TestServer(WebApplication app, int port, int metricsPort, int httpPort, FakeTimeProvider? fake, string? apiKey)
    {
        App = app;
        _fake = fake;
        Port = port;
        MetricsPort = metricsPort;
        HttpPort = httpPort;
        Trusted = TrustedCertificate(((IOptions<ServerOptions>)app.Services.GetService(typeof(IOptions<ServerOptions>))!).Value);
        Channel = Trusted is null
            ? GrpcChannel.ForAddress($"http://127.0.0.1:{port}")
            : GrpcChannel.ForAddress($"https://127.0.0.1:{port}", new GrpcChannelOptions { HttpHandler = CreateHandler(), DisposeHttpClient = true });
        Client = ClientWith(apiKey);
    }

    public WebApplication App { get; }

    public int Port { get; }

    public int MetricsPort { get; }

    /// <summary>The OpenAI-compatible HTTP port.</summary>
    public int HttpPort { get; }

    /// <summary>The OpenAI base address, as OpenAI clients take it (…/v1).</summary>
    public Uri OpenAiUri => new($"{(Trusted is null ? "http" : "https")}://127.0.0.1:{HttpPort}/v1/");

    /// <summary>
    /// The certificate the test's clients trust when TLS is on: the development certificate's public part as the
    /// server wrote it (Server:TlsDevCertificateOut), or the certificate file it serves.
    /// </summary>
    public X509Certificate2? Trusted { get; }

    public GrpcChannel Channel { get; }

    /// <summary>A client of <see cref="Channel"/>, with the API key the server was started with (if any).</summary>
    public InferenceService.InferenceServiceClient Client { get; }

    public EngineHost Host => (EngineHost)App.Services.GetService(typeof(EngineHost))!;

    /// <summary>The fake clock of a server started by <see cref="StartOnFakeClockAsync"/>: model time moves only when the test moves it.</summary>
    public FakeTimeProvider Fake => _fake ?? throw new InvalidOperationException("this server runs on the system clock");

    /// <summary>
    /// Starts a server on the system clock at time scale 0.01 unless <paramref name="settings"/> say otherwise;
    /// settings are configuration keys below MockServe: (Server:TimeScale=0.01).
    /// </summary>
    public static Task<TestServer> StartAsync(params (string Key, string Value)[] settings) => StartAsync(null, null, settings);

    /// <summary>As <see cref="StartAsync(ValueTuple{string, string}[])"/>, with <see cref="Client"/> sending <paramref name="apiKey"/>.</summary>
    public static Task<TestServer> StartWithKeyAsync(string apiKey, params (string Key, string Value)[] settings) => StartAsync(null, apiKey, settings);

    /// <summary>
    /// Starts a server whose model time is a fake clock at time scale 1: nothing happens until <see cref="DriveAsync"/>
    /// moves it, so requests sent before that all arrive at model time 0 and every model time is exact.
    /// </summary>
    public static Task<TestServer> StartOnFakeClockAsync(params (string Key, string Value)[] settings) =>
        StartAsync(new FakeTimeProvider(), null, [("Server:TimeScale", "1"), .. settings]);

    private static async Task<TestServer> StartAsync(FakeTimeProvider? fake, string? apiKey, (string Key, string Value)[] settings)
    {
        var (port, metricsPort, httpPort) = FreePorts();
        var overrides = new Dictionary<string, string?>
        {
            ["MockServe:Server:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MockServe:Server:MetricsPort"] = metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MockServe:Server:HttpPort"] = httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MockServe:Server:TimeScale"] = "0.01",
            ["MockServe:Server:DrainSeconds"] = "10",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            overrides["MockServe:" + key] = value;
        }

        var app = MockServeApp.Build(overrides, fake);
        await app.StartAsync();
        return new TestServer(app, port, metricsPort, httpPort, fake, apiKey);
    }

    /// <summary>
    /// Moves the fake clock <paramref name="step"/> seconds at a time, running <paramref name="between"/> after each
    /// move, until <paramref name="task"/> completes (at most 100,000 moves).
    /// </summary>
    public async Task<T> DriveAsync<T>(Task<T> task, double step = 0.25, Func<Task>? between = null)
    {
        for (int i = 0; i < 100_000 && !task.IsCompleted; i++)
        {
            Fake.Advance(TimeSpan.FromSeconds(step));
            if (between is not null)
            {
                await between();
            }

            await Task.WhenAny(task, Task.Delay(1));
        }

        Assert.True(task.IsCompleted, "the call did not end in 100,000 moves of the fake clock");
        return await task;
    }

    /// <summary>Reads a whole Generate stream: its chunks, the completion, and the wall time each message arrived.</summary>
    public async Task<GenerateRun> GenerateAsync(GenerateRequest request, Metadata? headers = null, CancellationToken ct = default)
    {
        long started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        ct = timeout.Token;
        using var call = Client.Generate(request, headers, cancellationToken: ct);
        var chunks = new List<(TokenChunk Chunk, double WallSeconds)>();
        GenerateComplete? complete = null;
        string requestId = "";
        await foreach (var message in call.ResponseStream.ReadAllAsync(ct))
        {
            requestId = message.RequestId;
            double at = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (message.EventCase == GenerateResponse.EventOneofCase.Chunk)
            {
                chunks.Add((message.Chunk, at));
            }
            else
            {
                complete = message.Complete;
            }
        }

        return new GenerateRun(requestId, chunks, complete!);
    }

    /// <summary>Polls GetServerInfo until the pool satisfies <paramref name="done"/>, for at most 5 s.</summary>
    public async Task<PoolState> WaitForPoolAsync(Func<PoolState, bool> done)
    {
        PoolState pool = new();
        for (int i = 0; i < 250; i++)
        {
            pool = (await Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool;
            if (done(pool))
            {
                return pool;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"pool state not reached in 5 s: {pool}");
        return pool;
    }

    /// <summary>Calls over <see cref="Channel"/> that send <paramref name="apiKey"/> as a bearer token; none when null.</summary>
    public CallInvoker Invoker(string? apiKey) => apiKey is null
        ? Channel.CreateCallInvoker()
        : Channel.Intercept(headers =>
        {
            headers.Add("authorization", $"Bearer {apiKey}");
            return headers;
        });

    public InferenceService.InferenceServiceClient ClientWith(string? apiKey) => new(Invoker(apiKey));

    public async Task<string> ScrapeAsync()
    {
        using var http = new HttpClient(CreateHandler());
        return await http.GetStringAsync(MetricsUri);
    }

    public Uri MetricsUri => new($"{(Trusted is null ? "http" : "https")}://127.0.0.1:{MetricsPort}/metrics");

    /// <summary>A handler that trusts <see cref="Trusted"/> (and nothing else) as its root when TLS is on.</summary>
    public SocketsHttpHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        if (Trusted is { } trusted)
        {
            handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { trusted },
                RevocationMode = X509RevocationMode.NoCheck,
            };
        }

        return handler;
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        Trusted?.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    private static X509Certificate2? TrustedCertificate(ServerOptions options) =>
        options.TlsDevCertificateOut.Length > 0 ? X509CertificateLoader.LoadCertificateFromFile(options.TlsDevCertificateOut)
        : options.TlsCertificate.Length > 0 ? X509Certificate2.CreateFromPemFile(options.TlsCertificate, options.TlsKey.Length > 0 ? options.TlsKey : null)
        : options.TlsDevCertificate ? throw new InvalidOperationException("a test server with a development certificate needs Server:TlsDevCertificateOut to trust it")
        : null;

    /// <summary>Three distinct free ports: the listeners stay open until every port is known, so the OS cannot hand out one twice.</summary>
    private static (int Grpc, int Metrics, int Http) FreePorts()
    {
        using var first = new TcpListener(IPAddress.Loopback, 0);
        using var second = new TcpListener(IPAddress.Loopback, 0);
        using var third = new TcpListener(IPAddress.Loopback, 0);
        first.Start();
        second.Start();
        third.Start();
        return (((IPEndPoint)first.LocalEndpoint).Port, ((IPEndPoint)second.LocalEndpoint).Port, ((IPEndPoint)third.LocalEndpoint).Port);
    }
}

internal sealed record GenerateRun(string RequestId, List<(TokenChunk Chunk, double WallSeconds)> Chunks, GenerateComplete Complete)
{
    public long Tokens => Chunks.Sum(c => c.Chunk.TokenIds.Count);

    public string Text => string.Concat(Chunks.Select(c => c.Chunk.Text));

    /// <summary>Model-time offset of every token from the request's arrival, as the server reported it.</summary>
    public double[] Offsets => Chunks.SelectMany(c => c.Chunk.TokenOffsets).Select(d => d.Seconds + (d.Nanos / 1e9)).ToArray();
}
