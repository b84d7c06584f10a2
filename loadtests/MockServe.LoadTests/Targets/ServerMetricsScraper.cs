using System.Globalization;

using MockServe.LoadTests.Reports;
using MockServe.LoadTests.Running;

namespace MockServe.LoadTests.Targets;

/// <summary>
/// Scrapes a mockserve server's <c>/metrics</c> once a second during a run and charts what the server saw beside what
/// the clients saw: concurrency, prefilling, decoding, context switching, KV cache use and GPU busy share. A scrape
/// that fails is counted and leaves a gap; the first failure prints one warning line, and the run goes on.
/// </summary>
/// <remarks>
/// Rates are per model second, not per wall second: the server's charts describe the modelled GPU, whose FLOP/s, HBM
/// and host-link bandwidths are per model second, so a run at time scale 0.01 reads like one at 1 and a swap rate
/// compares with the link's datasheet GB/s. mockserve_time_scale is wall seconds per model second, so a counter's
/// increase over a wall interval of w seconds spans w / time_scale model seconds: model rate = wall rate × time_scale.
/// At time scale 1 (the default) the two are the same, and the client's own charts are per wall second.
/// </remarks>
public sealed class ServerMetricsScraper : IRunMonitor
{
    public const string ConcurrencyChart = "Server: concurrency";
    public const string PrefillChart = "Server: prefilling";
    public const string DecodeChart = "Server: decoding";
    public const string ContextSwitchChart = "Server: context switching";
    public const string KvCacheChart = "Server: KV cache";
    public const string GpuBusyChart = "Server: GPU busy";

    private const double BytesPerGigabyte = 1e9;

    private static readonly string[] ChartOrder = [ConcurrencyChart, PrefillChart, DecodeChart, ContextSwitchChart, KvCacheChart, GpuBusyChart];

    // Values at each scrape.
    private static readonly Gauge[] Gauges =
    [
        new(ConcurrencyChart, "requests running", "requests / sessions", s => PrometheusText.Sum(s, "mockserve_requests_running")),
        new(ConcurrencyChart, "requests waiting", "requests / sessions", s => PrometheusText.Sum(s, "mockserve_requests_waiting")),
        new(ConcurrencyChart, "requests swapped", "requests / sessions", s => PrometheusText.Sum(s, "mockserve_requests_swapped")),
        new(ConcurrencyChart, "sessions resident", "requests / sessions", s => PrometheusText.Sum(s, "mockserve_sessions", ("state", "resident"))),
        new(KvCacheChart, "HBM", "% of capacity", s => Percent(s, "hbm")),
        new(KvCacheChart, "host memory", "% of capacity", s => Percent(s, "host")),
    ];

    // Counters, charted as their increase per model second between scrapes, times Scale; the GPU's busy share is the
    // mean over a fleet's replicas (each its own GPU group), the rest sum over them, as the gauges do.
    private static readonly Rate[] Rates =
    [
        new(PrefillChart, "prefill tokens/s", "prompt tokens per model second", "mockserve_prefill_tokens_total", null, 1),
        new(PrefillChart, "prefix-cache hit tokens/s", "prompt tokens per model second", "mockserve_prefix_cache_hit_tokens_total", null, 1),
        new(DecodeChart, "generation tokens/s", "output tokens per model second", "mockserve_generation_tokens_total", null, 1),
        new(ContextSwitchChart, "swap out (HBM to host) GB/s", "KV GB per model second", "mockserve_kv_swap_bytes_total", ("direction", "out"), 1 / BytesPerGigabyte),
        new(ContextSwitchChart, "swap in (host to HBM) GB/s", "KV GB per model second", "mockserve_kv_swap_bytes_total", ("direction", "in"), 1 / BytesPerGigabyte),
        new(GpuBusyChart, "prefill", "% of model time", "mockserve_gpu_busy_seconds_total", ("phase", "prefill"), 100, PerReplica: true),
        new(GpuBusyChart, "decode", "% of model time", "mockserve_gpu_busy_seconds_total", ("phase", "decode"), 100, PerReplica: true),
        new(GpuBusyChart, "swap", "% of model time", "mockserve_gpu_busy_seconds_total", ("phase", "swap"), 100, PerReplica: true),
    ];

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private readonly Uri _url;
    private readonly TextWriter _output;
    private readonly HttpMessageHandler? _handler;
    private readonly TimeSpan _interval;
    private readonly List<TimeSeriesPoint>[] _gaugePoints = [.. Gauges.Select(_ => new List<TimeSeriesPoint>())];
    private readonly List<TimeSeriesPoint>[] _ratePoints = [.. Rates.Select(_ => new List<TimeSeriesPoint>())];
    private (TimeSpan WallAt, double?[] Counters)? _previous;
    private long? _wallOrigin;

    /// <param name="url">The server's metrics, e.g. http://127.0.0.1:9464/metrics.</param>
    /// <param name="output">Where the one warning line goes if scrapes fail.</param>
    /// <param name="handler">The HTTP handler (tests pass a fake); a new SocketsHttpHandler when null.</param>
    /// <param name="interval">Time between scrapes; a second unless given.</param>
    public ServerMetricsScraper(Uri url, TextWriter output, HttpMessageHandler? handler = null, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(output);
        _url = url;
        _output = output;
        _handler = handler;
        _interval = interval ?? TimeSpan.FromSeconds(1);
    }

    /// <summary>The address scraped.</summary>
    public Uri Url => _url;

    /// <summary>Scrapes that answered and parsed.</summary>
    public int Scrapes { get; private set; }

    /// <summary>Scrapes that failed: no answer in time, an HTTP error, or a refused connection.</summary>
    public int FailedScrapes { get; private set; }

    /// <summary>A scraper of <paramref name="url"/>, or none when there is nothing to scrape.</summary>
    public static IReadOnlyList<IRunMonitor> For(Uri? url, TextWriter output) => url is null ? [] : [new ServerMetricsScraper(url, output)];

    /// <summary>The series with points, the four throughput charts first, then the KV cache and the GPU's busy share.</summary>
    public IReadOnlyList<TimeSeries> Series =>
    [
        .. Gauges.Select((g, i) => new TimeSeries(g.Chart, g.Name, g.Unit, _gaugePoints[i]))
            .Concat(Rates.Select((r, i) => new TimeSeries(r.Chart, r.Name, r.Unit, _ratePoints[i])))
            .Where(s => s.Points.Count > 0)
            .OrderBy(s => Array.IndexOf(ChartOrder, s.Chart)),
    ];

    public async Task WatchAsync(RunView run, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(run);
        using var http = _handler is null
            ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = Timeout })
            : new HttpClient(_handler, disposeHandler: false);
        // The scrape's own deadline (below) runs on the run's clock; this one only stops HttpClient's 100 s default.
        http.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
        using var timer = new PeriodicTimer(_interval, run.Time);
        // A scrape at the start gives the first second's rates a baseline.
        do
        {
            await ScrapeOnceAsync(http, run, ct);
        }
        while (await timer.WaitForNextTickAsync(ct));
    }

    private async Task ScrapeOnceAsync(HttpClient http, RunView run, CancellationToken ct)
    {
        // The point sits on the run's clock (model time at a time scale, as the client's charts); the rate's interval is
        // measured on the wall clock, which the server's time_scale turns into model seconds.
        var at = run.Elapsed;
        long wallAt = run.Time.GetTimestamp();
        string text;
        try
        {
            using var deadline = new CancellationTokenSource(Timeout, run.Time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
            text = await http.GetStringAsync(_url, linked.Token);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            FailedScrapes++;
            if (FailedScrapes == 1)
            {
                string reason = e is OperationCanceledException ? $"no answer in {Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s" : e.Message;
                await _output.WriteLineAsync($"warning: scraping the server's metrics at {_url} failed ({reason}); the run goes on, the server's charts have gaps where scrapes fail");
            }

            return;
        }

        Record(at, PrometheusText.Parse(text), run.Time.GetElapsedTime(_wallOrigin ??= wallAt, wallAt));
        Scrapes++;
    }

    /// <summary>Adds one scrape, taken at <paramref name="at"/> from the run's start, to the series.</summary>
    /// <param name="at">When, on the run's clock: the points' x.</param>
    /// <param name="samples">The scrape.</param>
    /// <param name="wall">When, in wall time since the first scrape (default: <paramref name="at"/>, a run in wall time).</param>
    internal void Record(TimeSpan at, IReadOnlyList<PrometheusSample> samples, TimeSpan? wall = null)
    {
        var wallAt = wall ?? at;
        for (int i = 0; i < Gauges.Length; i++)
        {
            if (Gauges[i].Read(samples) is { } value)
            {
                _gaugePoints[i].Add(new TimeSeriesPoint(at, value));
            }
        }

        double?[] counters = [.. Rates.Select(r => r.Label is { } label ? PrometheusText.Sum(samples, r.Metric, label) : PrometheusText.Sum(samples, r.Metric))];
        // Absent on a server that is not a mockserve: a wall second is then the only second there is. A server with
        // replicas exports one series per replica (labelled replica), all with the one time scale: their mean is it.
        int replicas = samples.Count(s => s.Name == "mockserve_time_scale");
        double timeScale = PrometheusText.Sum(samples, "mockserve_time_scale") is { } scale and > 0 ? scale / replicas : 1;
        if (_previous is var (before, previous) && wallAt > before)
        {
            double wallSeconds = (wallAt - before).TotalSeconds;
            for (int i = 0; i < Rates.Length; i++)
            {
                if (counters[i] is { } now && previous[i] is { } then)
                {
                    // A counter below its last value was reset (the server restarted): as Prometheus's rate() does,
                    // it counted up from 0 since, so its increase is its value, never negative.
                    double increase = now >= then ? now - then : now;
                    double perReplica = Rates[i].PerReplica ? Math.Max(1, replicas) : 1;
                    _ratePoints[i].Add(new TimeSeriesPoint(at, increase / wallSeconds * timeScale * Rates[i].Scale / perReplica));
                }
            }
        }

        _previous = (wallAt, counters);
    }

    private static double? Percent(IReadOnlyList<PrometheusSample> samples, string tier) =>
        PrometheusText.Sum(samples, "mockserve_kv_cache_bytes", ("tier", tier)) is { } used
        && PrometheusText.Sum(samples, "mockserve_kv_cache_capacity_bytes", ("tier", tier)) is { } capacity and > 0
            ? used / capacity * 100
            : null;

    private sealed record Gauge(string Chart, string Name, string Unit, Func<IReadOnlyList<PrometheusSample>, double?> Read);

    private sealed record Rate(string Chart, string Name, string Unit, string Metric, (string Name, string Value)? Label, double Scale, bool PerReplica = false);
}
