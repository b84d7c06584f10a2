using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

using MockServe.LoadTests.Telemetry;
using MockServe.LoadTests.Tests.Live;

using Prometheus;

using static MockServe.LoadTests.Tests.Measurement.Samples;

namespace MockServe.LoadTests.Tests.Telemetry;

public class ClientMetricsTests
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly ClientMetrics _metrics;

    public ClientMetricsTests() => _metrics = new ClientMetrics(ClientMetrics.CreateFactory(_registry), TimeSpan.FromSeconds(1));

    private async Task<string> ScrapeText()
    {
        using var stream = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Every sample line as series (name and labels, as printed) to value.</summary>
    private async Task<Dictionary<string, double>> Scrape()
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in (await ScrapeText()).Split('\n'))
        {
            if (line.Length > 0 && line[0] != '#')
            {
                int space = line.LastIndexOf(' ');
                samples.Add(line[..space], double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture));
            }
        }

        return samples;
    }

    [Fact]
    public async Task OnRecorded_TwoStreamsAndAFailure_CountersAndHistogramsAsWorkedOut()
    {
        // TTFT 302 ms, ITL (1302 - 302) / (11 - 1) = 100 ms, E2E 1.302 s, late 2 ms, two gaps of 500 ms.
        _metrics.OnRecorded(Stream(0, 2, 302, 1302, 11) with
        {
            PromptTokens = 1000,
            CachedTokens = 600,
            ChunkGaps = [Ms(500), Ms(500)],
        });
        // TTFT 50 ms, ITL (1250 - 1050) / (5 - 1) = 50 ms, E2E 250 ms, on time.
        _metrics.OnRecorded(Stream(1000, 1000, 1050, 1250, 5) with { PromptTokens = 200 });
        // Late 2 ms; no tokens, no latencies.
        _metrics.OnRecorded(Failed("ResourceExhausted"));

        var m = await Scrape();

        Assert.Equal(2, m["mockserve_client_requests_total{scenario=\"chat\",status=\"OK\"}"]);
        Assert.Equal(1, m["mockserve_client_requests_total{scenario=\"chat\",status=\"ResourceExhausted\"}"]);
        Assert.Equal(11 + 5, m["mockserve_client_output_tokens_total{scenario=\"chat\"}"]);
        Assert.Equal(1000 + 200, m["mockserve_client_prompt_tokens_total{scenario=\"chat\"}"]);
        Assert.Equal(600, m["mockserve_client_cached_prompt_tokens_total{scenario=\"chat\"}"]);

        Assert.Equal(2, m["mockserve_client_time_to_first_token_seconds_count{scenario=\"chat\"}"]);
        Assert.Equal(0.302 + 0.05, m["mockserve_client_time_to_first_token_seconds_sum{scenario=\"chat\"}"], 9);
        Assert.Equal(1, m["mockserve_client_time_to_first_token_seconds_bucket{scenario=\"chat\",le=\"0.05\"}"]);
        Assert.Equal(1, m["mockserve_client_time_to_first_token_seconds_bucket{scenario=\"chat\",le=\"0.2\"}"]);
        Assert.Equal(2, m["mockserve_client_time_to_first_token_seconds_bucket{scenario=\"chat\",le=\"0.5\"}"]);

        Assert.Equal(0.1 + 0.05, m["mockserve_client_inter_token_latency_seconds_sum{scenario=\"chat\"}"], 9);
        Assert.Equal(1, m["mockserve_client_inter_token_latency_seconds_bucket{scenario=\"chat\",le=\"0.05\"}"]);
        Assert.Equal(2, m["mockserve_client_inter_token_latency_seconds_bucket{scenario=\"chat\",le=\"0.1\"}"]);

        Assert.Equal(2, m["mockserve_client_chunk_gap_seconds_count{scenario=\"chat\"}"]);
        Assert.Equal(1.0, m["mockserve_client_chunk_gap_seconds_sum{scenario=\"chat\"}"], 9);

        Assert.Equal(1.302 + 0.25, m["mockserve_client_e2e_request_latency_seconds_sum{scenario=\"chat\"}"], 9);
        Assert.Equal(1, m["mockserve_client_e2e_request_latency_seconds_bucket{scenario=\"chat\",le=\"1\"}"]);
        Assert.Equal(2, m["mockserve_client_e2e_request_latency_seconds_bucket{scenario=\"chat\",le=\"2.5\"}"]);

        // Lateness counts every request, the failure too: 0, 2 and 2 ms.
        Assert.Equal(3, m["mockserve_client_schedule_lateness_seconds_count{scenario=\"chat\"}"]);
        Assert.Equal(0.004, m["mockserve_client_schedule_lateness_seconds_sum{scenario=\"chat\"}"], 9);
        Assert.Equal(1, m["mockserve_client_schedule_lateness_seconds_bucket{scenario=\"chat\",le=\"0.001\"}"]);
        Assert.Equal(3, m["mockserve_client_schedule_lateness_seconds_bucket{scenario=\"chat\",le=\"0.0025\"}"]);
    }

    [Fact]
    public async Task Sample_DriverCounters_GaugesSetAndCountersFollowTheDriver()
    {
        var run = new TestRun(TimeSpan.FromSeconds(60), "chat", "burst");
        var chat = run.Set("chat", copies: 3, started: 7, inFlight: 2, queued: 1, queuedTotal: 4, dropped: 2);
        _metrics.Sample(run.View);
        chat._copiesRunning = 1;
        chat._started = 9;
        _metrics.Sample(run.View);

        var m = await Scrape();

        Assert.Equal(1, m["mockserve_client_users{scenario=\"chat\"}"]);
        Assert.Equal(2, m["mockserve_client_requests_in_flight{scenario=\"chat\"}"]);
        Assert.Equal(1, m["mockserve_client_queued{scenario=\"chat\"}"]);
        Assert.Equal(9, m["mockserve_client_started_total{scenario=\"chat\"}"]);
        Assert.Equal(4, m["mockserve_client_queued_total{scenario=\"chat\"}"]);
        Assert.Equal(2, m["mockserve_client_dropped_total{scenario=\"chat\"}"]);
        // A scenario with nothing yet shows zeros, so a dashboard has its series from the start.
        Assert.Equal(0, m["mockserve_client_users{scenario=\"burst\"}"]);
        Assert.Equal(0, m["mockserve_client_dropped_total{scenario=\"burst\"}"]);
    }

    [Fact]
    public async Task WatchAsync_RunEnds_ASampleAtTheEndCatchesTheLastDrops()
    {
        var run = new TestRun(TimeSpan.FromSeconds(60), "chat");
        using var stop = new CancellationTokenSource();
        var watching = _metrics.WatchAsync(run.View, stop.Token);
        run.Counters["chat"]._dropped = 5;

        // Cancelled between ticks: no tick fired since the drops, only the sample at the end can see them.
        await stop.CancelAsync();
        await watching.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(5, (await Scrape())["mockserve_client_dropped_total{scenario=\"chat\"}"]);
    }

    [Fact]
    public async Task Start_FreeLoopbackPort_ServesTheMetricsAtSlashMetrics()
    {
        _metrics.OnRecorded(Stream(0, 0, 100, 200, 3));
        int port = FreePort();

        await using var server = ClientMetricsServer.Start(port, _registry);
        using var http = new HttpClient();
        string text = await http.GetStringAsync(server.Address).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal($"http://127.0.0.1:{port}/metrics", server.Address.ToString());
        Assert.Contains("mockserve_client_requests_total{scenario=\"chat\",status=\"OK\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("mockserve_client_output_tokens_total{scenario=\"chat\"} 3", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_PortTaken_Throws()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;

        Assert.ThrowsAny<IOException>(() => ClientMetricsServer.Start(port, _registry));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
