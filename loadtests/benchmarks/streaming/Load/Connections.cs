using System.Net.Http;

using Grpc.Core;
using Grpc.Net.Client;

using MockServe.Contracts.V1;

namespace MockServe.Benchmarks.Streaming.Load;

/// <summary>gRPC channels that each hold exactly one HTTP/2 connection, and the wait for a server to answer.</summary>
internal static class Connections
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// A channel with its own handler and multiple HTTP/2 connections off, so its streams share exactly one
    /// connection: the load test controls the connection count instead of leaving it to the handler's pool.
    /// </summary>
    public static GrpcChannel OneConnection(Uri target) => GrpcChannel.ForAddress(target, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        },
        DisposeHttpClient = true,
    });

    /// <summary>
    /// Retries GetServerInfo until the server answers, at most <paramref name="timeout"/>. UNIMPLEMENTED counts as
    /// an answer: the baseline serves Generate only, and any gRPC status proves Kestrel and the gRPC pipeline are up.
    /// </summary>
    public static async Task WaitReadyAsync(InferenceService.InferenceServiceClient client, TimeProvider time, TimeSpan timeout, CancellationToken ct)
    {
        long start = time.GetTimestamp();
        while (true)
        {
            try
            {
                await client.GetServerInfoAsync(new GetServerInfoRequest(), deadline: time.GetUtcNow().UtcDateTime.AddSeconds(2), cancellationToken: ct);
                return;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
            {
                return;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal)
            {
                if (time.GetElapsedTime(start) > timeout)
                {
                    throw new TimeoutException($"the server did not answer within {timeout.TotalSeconds:0.#} s: {ex.Status.Detail}", ex);
                }

                await Task.Delay(RetryPause, time, ct);
            }
        }
    }
}
