using System.Diagnostics;
using System.Net;

using Grpc.Core;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using MockServe.Contracts.V1;
using MockServe.Server.Security;

namespace MockServe.Server.Hosting;

/// <summary>
/// Once the server listens, and before readiness reports SERVING, calls the server over loopback the way a client
/// would (GetServerInfo, a streamed Generate, Estimate) through its warm-up lane. Without it the first real
/// request compiles Kestrel's HTTP/2, gRPC's and this server's code on its way and reaches its client tens of
/// milliseconds later than the model says; after it, the first request is as punctual as the rest.
/// </summary>
internal sealed partial class WarmupService(EngineHost host, IOptions<ServerOptions> options, ServerTls tls, ApiKeyTable keys, ILogger<WarmupService> logger) : IHostedLifecycleService
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        var server = options.Value;
        if (!server.Warmup || server.Port == 0)
        {
            // Switched off, or an ephemeral port that only Kestrel knows: there is nothing to call.
            host.EndWarmup(warmedUp: false);
            return;
        }

        long start = Stopwatch.GetTimestamp();
        host.BeginWarmup();
        bool warmedUp = false;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Budget);
            await CallAsync(server, tls, keys, timeout.Token);
            warmedUp = true;
            LogWarmedUp(logger, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or HttpRequestException)
        {
            // Not being warm costs the first request some milliseconds; not serving would cost everything.
            LogWarmupFailed(logger, ex.Message);
        }
        finally
        {
            host.EndWarmup(warmedUp);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static async Task CallAsync(ServerOptions server, ServerTls tls, ApiKeyTable keys, CancellationToken ct)
    {
        var address = IPAddress.Parse(server.BindAddress);
        // A wildcard bind is reached on loopback; any other address as it is.
        string hostName = address.Equals(IPAddress.Any) ? "127.0.0.1"
            : address.Equals(IPAddress.IPv6Any) ? "[::1]"
            : address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]"
            : address.ToString();
        using var channel = tls.CreateSelfChannel(hostName, server.Port);
        var client = new InferenceService.InferenceServiceClient(channel);
        var warmup = keys.Authorize(new Metadata { { EngineHost.WarmupKey, "1" } });
        await client.GetServerInfoAsync(new GetServerInfoRequest(), warmup, cancellationToken: ct);
        await client.EstimateAsync(new EstimateRequest { ContextTokens = 1000 }, warmup, cancellationToken: ct);
        // Two turns of one session: new, then hot; several tokens per stream, so the writer loop runs too.
        for (int turn = 0; turn < 2; turn++)
        {
            using var call = client.Generate(
                new GenerateRequest { RequestId = $"warmup-{turn}", SessionId = "warmup", PromptTokens = 64 + (turn * 16), MaxTokens = 8, IgnoreEos = true, Stop = { "\u0000" } },
                warmup,
                cancellationToken: ct);
            await foreach (var _ in call.ResponseStream.ReadAllAsync(ct))
            {
            }
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "warmed up in {Milliseconds:F0} ms: readiness reports SERVING")]
    private static partial void LogWarmedUp(ILogger logger, double milliseconds);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "warm-up call failed ({Reason}); serving anyway, the first requests may be late")]
    private static partial void LogWarmupFailed(ILogger logger, string reason);
}
