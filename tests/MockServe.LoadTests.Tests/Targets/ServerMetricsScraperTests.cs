using System.Globalization;
using System.Net;

using Microsoft.Extensions.Time.Testing;

using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Reports;
using MockServe.LoadTests.Running;
using MockServe.LoadTests.Targets;

namespace MockServe.LoadTests.Tests.Targets;

public class ServerMetricsScraperTests
{
    // Wall seconds per model second: a wall second is two model seconds, so model rates are half the wall rates.
    private const double TimeScale = 0.5;

    private static readonly Uri Url = new("http://127.0.0.1:9464/metrics");

    [Fact]
    public async Task WatchAsync_TwoScrapesAWallSecondApart_RatesPerModelSecond()
    {
        var (scraper, _) = await ScrapeAsync(
            Exposition(),
            Exposition(prefill: 4000, generation: 100, swapOut: 2e9, busyPrefill: 0.5, busyDecode: 1.0));

        // 4,000 tokens in 1 wall second = 2 model seconds: 2,000 a model second.
        Assert.Equal([new TimeSeriesPoint(TimeSpan.FromSeconds(1), 2000)], Points(scraper, "prefill tokens/s"));
        Assert.Equal([new TimeSeriesPoint(TimeSpan.FromSeconds(1), 50)], Points(scraper, "generation tokens/s"));
        // 2e9 bytes over 2 model seconds: 1 GB a model second.
        Assert.Equal(1, Points(scraper, "swap out (HBM to host) GB/s")[0].Value, 1e-12);
        Assert.Equal(0, Points(scraper, "swap in (host to HBM) GB/s")[0].Value);
        // Busy 0.5 and 1.0 model seconds of the 2: 25% prefill, 50% decode.
        Assert.Equal(25, Series(scraper, ServerMetricsScraper.GpuBusyChart, "prefill").Points[0].Value, 1e-9);
        Assert.Equal(50, Series(scraper, ServerMetricsScraper.GpuBusyChart, "decode").Points[0].Value, 1e-9);
    }

    [Fact]
    public async Task WatchAsync_RunOnTheModelClock_PointsAtModelTimeAndTheSameRates()
    {
        // The run's clock reads model time (2 model seconds a wall second at 0.5): the points sit there, and the rate
        // still comes from the wall interval and the server's time scale.
        var (scraper, _) = await ScrapeAsync(modelClock: true, Exposition(), Exposition(prefill: 4000));

        Assert.Equal([new TimeSeriesPoint(TimeSpan.FromSeconds(2), 2000)], Points(scraper, "prefill tokens/s"));
    }

    [Fact]
    public async Task WatchAsync_Gauges_OnePointEachScrapeAtItsMoment()
    {
        var (scraper, _) = await ScrapeAsync(
            Exposition(),
            Exposition(running: 2, waiting: 1, swapped: 3, resident: 4, hbmUsed: 250));

        Assert.Equal([new(TimeSpan.Zero, 0), new(TimeSpan.FromSeconds(1), 2)], Points(scraper, "requests running"));
        Assert.Equal(1, Points(scraper, "requests waiting")[1].Value);
        Assert.Equal(3, Points(scraper, "requests swapped")[1].Value);
        Assert.Equal(4, Points(scraper, "sessions resident")[1].Value);
        // 250 of 1,000 HBM bytes; the host tier has no capacity, so no line.
        Assert.Equal(25, Series(scraper, ServerMetricsScraper.KvCacheChart, "HBM").Points[1].Value);
        Assert.DoesNotContain(scraper.Series, s => s.Name == "host memory");
    }

    [Fact]
    public async Task WatchAsync_TwoFailedScrapes_CountedOneWarningAndTheNextRateSpansTheGap()
    {
        var (scraper, output) = await ScrapeAsync(
            Exposition(),
            Exposition(prefill: 4000, generation: 100),
            new HttpResponseMessage(HttpStatusCode.ServiceUnavailable),
            new HttpRequestException("Connection refused"),
            Exposition(prefill: 10_000, generation: 400));

        Assert.Equal(3, scraper.Scrapes);
        Assert.Equal(2, scraper.FailedScrapes);
        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"warning: scraping the server's metrics at {Url} failed (", line, StringComparison.Ordinal);
        Assert.Contains("503", line, StringComparison.Ordinal);
        // 6,000 tokens from second 1 to second 4: 3 wall seconds = 6 model seconds, 1,000 a model second.
        Assert.Equal(
            [new(TimeSpan.FromSeconds(1), 2000), new(TimeSpan.FromSeconds(4), 1000)],
            Points(scraper, "prefill tokens/s"));
        Assert.Equal(300 / 6.0, Points(scraper, "generation tokens/s")[1].Value, 1e-12);
    }

    [Fact]
    public async Task WatchAsync_CounterReset_RateCountsFromZeroNeverNegative()
    {
        var (scraper, _) = await ScrapeAsync(
            Exposition(prefill: 10_000, generation: 400),
            Exposition(prefill: 800, generation: 40));

        // The server restarted: since then it counted 800 tokens, in 2 model seconds.
        Assert.Equal(400, Points(scraper, "prefill tokens/s")[0].Value);
        Assert.Equal(20, Points(scraper, "generation tokens/s")[0].Value);
    }

    [Fact]
    public async Task WatchAsync_NotAMockserve_NoSeries()
    {
        var (scraper, output) = await ScrapeAsync("process_cpu_seconds_total 3\n", "process_cpu_seconds_total 4\n");

        Assert.Equal(2, scraper.Scrapes);
        Assert.Empty(scraper.Series);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public async Task WatchAsync_EveryChart_ThroughputChartsFirstAndOneUnitEach()
    {
        var (scraper, _) = await ScrapeAsync(Exposition(), Exposition(prefill: 1));

        Assert.Equal(
            [ServerMetricsScraper.ConcurrencyChart, ServerMetricsScraper.PrefillChart, ServerMetricsScraper.DecodeChart,
                ServerMetricsScraper.ContextSwitchChart, ServerMetricsScraper.KvCacheChart, ServerMetricsScraper.GpuBusyChart],
            scraper.Series.Select(s => s.Chart).Distinct());
        var charts = scraper.Series.GroupBy(s => s.Chart).ToDictionary(g => g.Key, g => g.Select(s => s.Unit).Distinct().Single());
        Assert.Equal("requests / sessions", charts[ServerMetricsScraper.ConcurrencyChart]);
        Assert.Equal("prompt tokens per model second", charts[ServerMetricsScraper.PrefillChart]);
        Assert.Equal("output tokens per model second", charts[ServerMetricsScraper.DecodeChart]);
        Assert.Equal("KV GB per model second", charts[ServerMetricsScraper.ContextSwitchChart]);
        Assert.Equal("% of capacity", charts[ServerMetricsScraper.KvCacheChart]);
        Assert.Equal("% of model time", charts[ServerMetricsScraper.GpuBusyChart]);
    }

    [Fact]
    public async Task WatchAsync_TwoReplicas_SumsTheirSeriesOnceAndAveragesTheGpuBusyShare()
    {
        var (scraper, _) = await ScrapeAsync(
            Replicas(Exposition(), Exposition()),
            Replicas(
                Exposition(prefill: 4000, busyPrefill: 1.0, running: 2, hbmUsed: 250),
                Exposition(prefill: 2000, busyPrefill: 0.5, running: 3, hbmUsed: 500)));

        // 6,000 tokens in 1 wall second = 2 model seconds (the time scale 0.5 counted once, not once per replica).
        Assert.Equal(3000, Points(scraper, "prefill tokens/s")[0].Value);
        Assert.Equal(5, Points(scraper, "requests running")[1].Value);
        // 750 of the two replicas' 2,000 HBM bytes.
        Assert.Equal(37.5, Series(scraper, ServerMetricsScraper.KvCacheChart, "HBM").Points[1].Value);
        // Busy 1.0 and 0.5 of 2 model seconds each: 50% and 25%, a mean of 37.5% of each GPU group's time.
        Assert.Equal(37.5, Series(scraper, ServerMetricsScraper.GpuBusyChart, "prefill").Points[0].Value, 1e-9);
    }

    private static IReadOnlyList<TimeSeriesPoint> Points(ServerMetricsScraper scraper, string name) =>
        Assert.Single(scraper.Series, s => s.Name == name).Points;

    private static TimeSeries Series(ServerMetricsScraper scraper, string chart, string name) =>
        Assert.Single(scraper.Series, s => s.Chart == chart && s.Name == name);

    /// <summary>
    /// Runs the scraper on a fake clock, one answer a second from second 0, and stops it after the last: each answer
    /// is exposition text, an HTTP response, or an exception the handler throws.
    /// </summary>
    private static Task<(ServerMetricsScraper Scraper, StringWriter Output)> ScrapeAsync(params object[] answers) =>
        ScrapeAsync(modelClock: false, answers);

    private static async Task<(ServerMetricsScraper Scraper, StringWriter Output)> ScrapeAsync(bool modelClock, params object[] answers)
    {
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        var view = new RunView(time, () => (time.GetUtcNow() - start) / (modelClock ? TimeScale : 1), null, [], new RunRecorder());
        using var handler = new ScriptedHandler(answers);
        var output = new StringWriter();
        var scraper = new ServerMetricsScraper(Url, output, handler);
        using var stop = new CancellationTokenSource();

        var watching = scraper.WatchAsync(view, stop.Token);
        for (int i = 1; i <= answers.Length; i++)
        {
            await Until(() => scraper.Scrapes + scraper.FailedScrapes == i);
            if (i < answers.Length)
            {
                time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
        Assert.Equal(answers.Length, handler.Requests);
        return (scraper, output);
    }

    private static async Task Until(Func<bool> condition)
    {
        // The scrape runs on the thread pool after the fake clock's tick: wait for it, boundedly.
        for (int i = 0; i < 5000 && !condition(); i++)
        {
            await Task.Delay(1);
        }

        Assert.True(condition(), "the scraper did not scrape when the fake clock ticked");
    }

    /// <summary>The expositions of a server's replicas as one: every sample labelled with its replica, as serve --replicas writes them.</summary>
    private static string Replicas(params string[] expositions) => string.Concat(expositions.Select((text, r) => string.Join('\n', text.Split('\n').Select(line =>
        line.Length == 0 || line[0] == '#' ? line
        : line.Contains('{', StringComparison.Ordinal) ? line.Replace("}", $",replica=\"{r}\"}}", StringComparison.Ordinal)
        : line.Replace(" ", $"{{replica=\"{r}\"}} ", StringComparison.Ordinal))) + "\n"));

    private static string Exposition(
        double prefill = 0, double generation = 0, double swapOut = 0, double swapIn = 0,
        double busyPrefill = 0, double busyDecode = 0, double running = 0, double waiting = 0,
        double swapped = 0, double resident = 0, double hbmUsed = 0) => string.Create(CultureInfo.InvariantCulture, $$"""
        # HELP mockserve_requests_running Requests in the running batch.
        # TYPE mockserve_requests_running gauge
        mockserve_requests_running {{running}}
        mockserve_requests_waiting {{waiting}}
        mockserve_requests_swapped {{swapped}}
        mockserve_sessions{state="resident"} {{resident}}
        mockserve_sessions{state="swapped"} 0
        mockserve_kv_cache_bytes{tier="hbm"} {{hbmUsed}}
        mockserve_kv_cache_bytes{tier="host"} 0
        mockserve_kv_cache_capacity_bytes{tier="hbm"} 1000
        mockserve_kv_cache_capacity_bytes{tier="host"} 0
        # TYPE mockserve_prefill_tokens_total counter
        mockserve_prefill_tokens_total {{prefill}}
        mockserve_prefix_cache_hit_tokens_total 0
        mockserve_generation_tokens_total {{generation}}
        mockserve_kv_swap_bytes_total{direction="out"} {{swapOut}}
        mockserve_kv_swap_bytes_total{direction="in"} {{swapIn}}
        mockserve_gpu_busy_seconds_total{phase="prefill"} {{busyPrefill}}
        mockserve_gpu_busy_seconds_total{phase="decode"} {{busyDecode}}
        mockserve_gpu_busy_seconds_total{phase="swap"} 0
        mockserve_time_scale {{TimeScale}}
        """);

    /// <summary>Answers each request with the next scripted answer.</summary>
    private sealed class ScriptedHandler(object[] answers) : HttpMessageHandler
    {
        private int _next;

        public int Requests => Volatile.Read(ref _next);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal(Url, request.RequestUri);
            object answer = answers[Interlocked.Increment(ref _next) - 1];
            return answer switch
            {
                string text => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(text) }),
                HttpResponseMessage response => Task.FromResult(response),
                Exception e => Task.FromException<HttpResponseMessage>(e),
                _ => throw new ArgumentException($"unknown answer {answer}"),
            };
        }
    }
}
