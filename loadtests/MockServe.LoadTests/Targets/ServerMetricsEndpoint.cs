using Grpc.Core;

using MockServe.Contracts.V1;

namespace MockServe.LoadTests.Targets;

/// <summary>Where the server's metrics are: from <c>--target-metrics</c>, the embedded server, or the target's GetServerInfo.</summary>
public static class ServerMetricsEndpoint
{
    /// <summary>The <c>--target-metrics</c> value that turns scraping off.</summary>
    public const string None = "none";

    private static readonly TimeSpan InfoTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Reads a <c>--target-metrics</c> value: an absolute http or https URL, or <see cref="None"/> (a null URL).</summary>
    public static bool TryParseFlag(string text, out Uri? url, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        url = null;
        error = null;
        if (text == None)
        {
            return true;
        }

        if (Uri.TryCreate(text, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https")
        {
            url = parsed;
            return true;
        }

        error = $"expected an http or https URL such as http://127.0.0.1:9464/metrics, or {None}";
        return false;
    }

    /// <summary>
    /// The metrics URL to scrape, or null for none. An explicit <paramref name="flag"/> wins (<see cref="None"/>: no
    /// scraping); then the embedded server's address; then the metrics port a remote target's GetServerInfo reports,
    /// on the target's host and scheme. A target that is not a mockserve, or does not answer, costs one line and no
    /// more: the run goes on without the server's charts.
    /// </summary>
    public static async Task<Uri?> ResolveAsync(
        string? flag,
        Uri? embeddedMetrics,
        Uri target,
        InferenceService.InferenceServiceClient client,
        TextWriter output,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(output);
        if (flag is not null)
        {
            return TryParseFlag(flag, out var url, out string? error) ? url : throw new ArgumentException(error, nameof(flag));
        }

        if (embeddedMetrics is not null)
        {
            return embeddedMetrics;
        }

        GetServerInfoResponse info;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(InfoTimeout);
            info = await client.GetServerInfoAsync(new GetServerInfoRequest(), cancellationToken: timeout.Token);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            await output.WriteLineAsync($"server metrics: {target} does not answer mockserve's GetServerInfo (not a mockserve?): the run goes on without the server's charts (--target-metrics URL names them)");
            return null;
        }
        catch (RpcException e) when (!ct.IsCancellationRequested)
        {
            await output.WriteLineAsync($"server metrics: GetServerInfo of {target} failed ({e.StatusCode}: {e.Status.Detail}): the run goes on without the server's charts");
            return null;
        }

        if (info.MetricsPort is <= 0 or > 65535)
        {
            await output.WriteLineAsync($"server metrics: {target} reports no metrics port: the run goes on without the server's charts (--target-metrics URL names them)");
            return null;
        }

        return new UriBuilder(target.Scheme, target.Host, info.MetricsPort, "/metrics").Uri;
    }
}
