using System.Globalization;

using Grpc.Core;

using MockServe.Contracts.V1;

namespace MockServe.LoadTests.Targets;

/// <summary>The time scale the run's clock follows: the one asked for, else the embedded server's, else the target's.</summary>
public static class TargetClock
{
    private static readonly TimeSpan InfoTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <paramref name="asked"/> when given (<c>--time-scale</c>); 1 for the embedded server started without one; else the
    /// <c>time_scale</c> a remote target's GetServerInfo reports, or 1 (wall time) when it reports none or is not a mockserve.
    /// </summary>
    public static async Task<double> ResolveAsync(double? asked, bool embedded, InferenceService.InferenceServiceClient client, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (asked is { } scale)
        {
            return scale;
        }

        if (embedded)
        {
            return 1;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(InfoTimeout);
            var info = await client.GetServerInfoAsync(new GetServerInfoRequest(), cancellationToken: timeout.Token);
            return info.TimeScale > 0 && info.TimeScale <= 1000 ? info.TimeScale : 1;
        }
        catch (RpcException) when (!ct.IsCancellationRequested)
        {
            // Not a mockserve, or it does not answer: its users live in wall time (the metrics resolver says which).
            return 1;
        }
    }

    /// <summary>The console line that says which clock the run's numbers are on.</summary>
    public static string Describe(double scale) => scale == 1
        ? "clock: wall time"
        : string.Create(CultureInfo.InvariantCulture,
            $"clock: model time, 1 model second = {scale:0.####} wall seconds (durations, rates, think times and every latency reported are model time)");
}
