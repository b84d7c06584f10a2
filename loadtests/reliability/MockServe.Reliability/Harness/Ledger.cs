using System.Globalization;

using Grpc.Core;

using MockServe.Contracts.V1;

namespace MockServe.Reliability.Harness;

/// <summary>The server's KV ledger as clients see it: GetServerInfo's pool and the /metrics KV gauges.</summary>
internal sealed class Ledger(ServerProcess server, TimeProvider time)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly InferenceService.InferenceServiceClient _client = new(server.Channel);

    public async Task<PoolState> PoolAsync(CancellationToken ct) =>
        (await _client.GetServerInfoAsync(new GetServerInfoRequest(), deadline: time.GetUtcNow().UtcDateTime.AddSeconds(10), cancellationToken: ct)).Pool;

    /// <summary>
    /// Polls until no request runs, waits or is swapped out, at most <paramref name="timeout"/>: a cancelled stream's
    /// request leaves the engine a moment after the client saw its status.
    /// </summary>
    public async Task<PoolState> SettleAsync(TimeSpan timeout, CancellationToken ct)
    {
        long start = time.GetTimestamp();
        while (true)
        {
            var pool = await PoolAsync(ct);
            if (Busy(pool) == 0 || time.GetElapsedTime(start) > timeout)
            {
                return pool;
            }

            await Task.Delay(100, ct);
        }
    }

    public static int Busy(PoolState pool) => pool.RequestsRunning + pool.RequestsWaiting + pool.RequestsSwapped;

    /// <summary>KV bytes held by requests rather than by idle sessions: zero once nothing runs.</summary>
    public static double RequestKvBytes(PoolState pool) => pool.HbmKvBytesUsed - pool.HbmKvBytesIdle;

    public static string Describe(PoolState pool) => string.Create(CultureInfo.InvariantCulture,
        $"running {pool.RequestsRunning}, waiting {pool.RequestsWaiting}, swapped {pool.RequestsSwapped}; KV HBM {pool.HbmKvBytesUsed:N0} B ({pool.HbmKvBytesIdle:N0} idle), host {pool.HostKvBytesUsed:N0} B; sessions {pool.SessionsTotal} ({pool.SessionsResident} resident, {pool.SessionsSwapped} swapped)");

    /// <summary>The value of one sample of /metrics, e.g. <c>mockserve_kv_cache_bytes{tier="hbm"}</c>; null when absent.</summary>
    public async Task<double?> MetricAsync(string sample, CancellationToken ct)
    {
        string text = await Http.GetStringAsync(server.MetricsUrl, ct);
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith(sample, StringComparison.Ordinal) && line.Length > sample.Length && line[sample.Length] == ' ')
            {
                return double.Parse(line[(sample.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>Every /metrics sample line whose name contains <paramref name="part"/>, for the report.</summary>
    public async Task<IReadOnlyList<string>> MetricLinesAsync(string part, CancellationToken ct)
    {
        string text = await Http.GetStringAsync(server.MetricsUrl, ct);
        return text.Split('\n').Where(l => !l.StartsWith('#') && l.Contains(part, StringComparison.Ordinal)).ToList();
    }

    /// <summary>
    /// The checks once every call ended: no request runs, waits or is swapped out, and no KV is held by a request
    /// (HBM used minus the idle sessions' part). Returns the pool it judged.
    /// </summary>
    public async Task<PoolState> CheckIdleAsync(Verdict verdict, CancellationToken ct)
    {
        var pool = await SettleAsync(TimeSpan.FromSeconds(10), ct);
        verdict.Check("no request left in the engine", Busy(pool) == 0, Describe(pool));
        verdict.Check("no KV held by requests once all ended", RequestKvBytes(pool) == 0,
            string.Create(CultureInfo.InvariantCulture, $"HBM used {pool.HbmKvBytesUsed:N0} B - idle sessions {pool.HbmKvBytesIdle:N0} B = {RequestKvBytes(pool):N0} B"));
        return pool;
    }

    /// <summary>The check once every session is closed (or none was opened): no KV at all, by GetServerInfo and by the /metrics gauges.</summary>
    public async Task CheckZeroAsync(Verdict verdict, CancellationToken ct)
    {
        var pool = await PoolAsync(ct);
        double? hbm = await MetricAsync("mockserve_kv_cache_bytes{tier=\"hbm\"}", ct);
        double? host = await MetricAsync("mockserve_kv_cache_bytes{tier=\"host\"}", ct);
        bool zero = pool.HbmKvBytesUsed == 0 && pool.HostKvBytesUsed == 0 && pool.SessionsTotal == 0 && hbm == 0 && host == 0;
        verdict.Check("KV ledger back to zero with no session open", zero, string.Create(CultureInfo.InvariantCulture,
            $"GetServerInfo: HBM {pool.HbmKvBytesUsed:N0} B, host {pool.HostKvBytesUsed:N0} B, sessions {pool.SessionsTotal}; /metrics mockserve_kv_cache_bytes hbm {Show(hbm)}, host {Show(host)}"));
    }

    /// <summary>Closes every session id given; NOT_FOUND (never created, dropped or expired) is fine.</summary>
    public async Task<(int Closed, int NotFound)> CloseSessionsAsync(IEnumerable<string> sessionIds, CancellationToken ct)
    {
        int closed = 0;
        int notFound = 0;
        foreach (string id in sessionIds)
        {
            try
            {
                await _client.CloseSessionAsync(new CloseSessionRequest { SessionId = id }, deadline: time.GetUtcNow().UtcDateTime.AddSeconds(10), cancellationToken: ct);
                closed++;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                notFound++;
            }
        }

        return (closed, notFound);
    }

    private static string Show(double? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) + " B" : "absent";
}
