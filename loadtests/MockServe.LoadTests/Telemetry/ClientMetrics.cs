using System.Collections.Concurrent;

using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Running;
using MockServe.Server.Metrics;

using Prometheus;

namespace MockServe.LoadTests.Telemetry;

/// <summary>
/// The driver's own Prometheus metrics, <c>mockserve_client_*</c>: what the clients lived through, beside the
/// server's <c>mockserve_*</c> on one dashboard. Latencies, tokens and statuses come from each recorded request; the
/// users, requests in flight, queue and drops are the drivers' counters, sampled every interval and once more at the
/// run's end. Labels: the scenario, and a request's status; never a request or session id.
/// </summary>
public sealed class ClientMetrics : IRunMonitor
{
    // The server's buckets, so client and server histograms of a run compare bucket for bucket.
    private static readonly double[] TtftBuckets = [.. LatencyBuckets.Ttft];
    private static readonly double[] E2eBuckets = [.. LatencyBuckets.E2e];
    private static readonly double[] ItlBuckets = [.. LatencyBuckets.Itl];

    // On time is under a millisecond; a driver short of threads or slots is late by seconds (coordinated omission).
    private static readonly double[] LatenessBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly TimeSpan _interval;
    private readonly Counter _requests;
    private readonly Gauge _inFlight;
    private readonly Gauge _users;
    private readonly Gauge _queued;
    private readonly Counter _started;
    private readonly Counter _queuedTotal;
    private readonly Counter _dropped;
    private readonly Counter _outputTokens;
    private readonly Counter _promptTokens;
    private readonly Counter _cachedTokens;
    private readonly Histogram _ttft;
    private readonly Histogram _itl;
    private readonly Histogram _chunkGap;
    private readonly Histogram _e2e;
    private readonly Histogram _lateness;
    private readonly ConcurrentDictionary<string, ScenarioChildren> _scenarios = new(StringComparer.Ordinal);

    /// <summary>A factory for this class's metrics on <paramref name="registry"/>, without exemplars (no traces here).</summary>
    public static IMetricFactory CreateFactory(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        return factory;
    }

    /// <param name="factory">Where the metrics are created (a fresh registry per run, or in a test).</param>
    /// <param name="interval">How often the drivers' counters are sampled.</param>
    public ClientMetrics(IMetricFactory factory, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _interval = interval;
        string[] scenario = ["scenario"];
        _requests = factory.CreateCounter("mockserve_client_requests_total",
            "Requests the driver recorded, by scenario and status: OK, a gRPC status name, or a scenario's own code.",
            ["scenario", "status"]);
        _inFlight = factory.CreateGauge("mockserve_client_requests_in_flight",
            "Invocations holding an in-flight slot, at the last sample.", scenario);
        _users = factory.CreateGauge("mockserve_client_users",
            "Closed-model copies (users) alive, at the last sample; open-model arrivals count in mockserve_client_started_total.", scenario);
        _queued = factory.CreateGauge("mockserve_client_queued",
            "Invocations waiting for an in-flight slot, at the last sample.", scenario);
        _started = factory.CreateCounter("mockserve_client_started_total",
            "Invocations the driver started: open-model arrivals and closed-model loops.", scenario);
        _queuedTotal = factory.CreateCounter("mockserve_client_queued_total",
            "Invocations that had to wait for an in-flight slot; the wait is part of the schedule lateness.", scenario);
        _dropped = factory.CreateCounter("mockserve_client_dropped_total",
            "Invocations dropped at the in-flight cap, never sent.", scenario);
        _outputTokens = factory.CreateCounter("mockserve_client_output_tokens_total",
            "Output tokens of successful requests, from the server's usage.", scenario);
        _promptTokens = factory.CreateCounter("mockserve_client_prompt_tokens_total",
            "Prompt tokens of successful requests, cached ones included, from the server's usage.", scenario);
        _cachedTokens = factory.CreateCounter("mockserve_client_cached_prompt_tokens_total",
            "Prompt tokens of successful requests whose KV the server reused.", scenario);
        _ttft = factory.CreateHistogram("mockserve_client_time_to_first_token_seconds",
            "Successful requests' first token minus their intended start (client-side queueing included).",
            new HistogramConfiguration { LabelNames = scenario, Buckets = TtftBuckets });
        _itl = factory.CreateHistogram("mockserve_client_inter_token_latency_seconds",
            "Successful requests' (last token - first token) / (output tokens - 1), one value a request with 2 tokens or more.",
            new HistogramConfiguration { LabelNames = scenario, Buckets = ItlBuckets });
        _chunkGap = factory.CreateHistogram("mockserve_client_chunk_gap_seconds",
            "Gaps between consecutive streamed chunks of successful requests, pooled over all requests.",
            new HistogramConfiguration { LabelNames = scenario, Buckets = ItlBuckets });
        _e2e = factory.CreateHistogram("mockserve_client_e2e_request_latency_seconds",
            "Successful requests' last token (or end) minus their intended start.",
            new HistogramConfiguration { LabelNames = scenario, Buckets = E2eBuckets });
        _lateness = factory.CreateHistogram("mockserve_client_schedule_lateness_seconds",
            "Every request's actual start minus its intended start: queue waits and a late driver (coordinated omission).",
            new HistogramConfiguration { LabelNames = scenario, Buckets = LatenessBuckets });
    }

    public void OnRecorded(RequestSample sample)
    {
        // Runs on the recording thread of every request: only pre-made children and interlocked adds, nothing thrown.
        if (sample is null)
        {
            return;
        }

        var s = Children(sample.Scenario);
        s.Status(sample.Status).Inc();
        s.Lateness.Observe(Math.Max(0, sample.ScheduleLateness.TotalSeconds));
        if (!sample.Ok)
        {
            return;
        }

        // A counter refuses a negative increment by throwing; a scenario's odd usage must not reach the recorder.
        s.OutputTokens.Inc(Math.Max(0, sample.OutputTokens));
        s.PromptTokens.Inc(Math.Max(0, sample.PromptTokens));
        s.CachedTokens.Inc(Math.Max(0, sample.CachedTokens));
        if (sample.Ttft is { } ttft)
        {
            s.Ttft.Observe(ttft.TotalSeconds);
        }

        if (sample.Itl is { } itl)
        {
            s.Itl.Observe(itl.TotalSeconds);
        }

        foreach (var gap in sample.ChunkGaps)
        {
            s.ChunkGap.Observe(gap.TotalSeconds);
        }

        s.E2e.Observe(sample.E2e.TotalSeconds);
    }

    public async Task WatchAsync(RunView run, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(run);
        Sample(run);
        using var timer = new PeriodicTimer(_interval, run.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                Sample(run);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The run is over: a last sample, so a scrape after it sees the final counts and no users left.
            Sample(run);
        }
    }

    /// <summary>Sets the gauges and sampled counters from the drivers' counters now.</summary>
    public void Sample(RunView run)
    {
        ArgumentNullException.ThrowIfNull(run);
        foreach (var scenario in run.Scenarios)
        {
            var s = Children(scenario.Name);
            var c = scenario.Counters;
            s.Users.Set(c.CopiesRunning);
            s.InFlight.Set(c.InFlight);
            s.Queued.Set(c.Queued);
            s.Started.IncTo(c.Started);
            s.QueuedTotal.IncTo(c.QueuedTotal);
            s.Dropped.IncTo(c.Dropped);
        }
    }

    private ScenarioChildren Children(string scenario) => _scenarios.GetOrAdd(scenario, static (name, m) => new ScenarioChildren(m, name), this);

    /// <summary>One scenario's children, made once: WithLabels looks its children up on every call.</summary>
    private sealed class ScenarioChildren(ClientMetrics m, string name)
    {
        private readonly ConcurrentDictionary<string, Counter.Child> _statuses = new(StringComparer.Ordinal);

        public Gauge.Child Users { get; } = m._users.WithLabels(name);

        public Gauge.Child InFlight { get; } = m._inFlight.WithLabels(name);

        public Gauge.Child Queued { get; } = m._queued.WithLabels(name);

        public Counter.Child Started { get; } = m._started.WithLabels(name);

        public Counter.Child QueuedTotal { get; } = m._queuedTotal.WithLabels(name);

        public Counter.Child Dropped { get; } = m._dropped.WithLabels(name);

        public Counter.Child OutputTokens { get; } = m._outputTokens.WithLabels(name);

        public Counter.Child PromptTokens { get; } = m._promptTokens.WithLabels(name);

        public Counter.Child CachedTokens { get; } = m._cachedTokens.WithLabels(name);

        public Histogram.Child Ttft { get; } = m._ttft.WithLabels(name);

        public Histogram.Child Itl { get; } = m._itl.WithLabels(name);

        public Histogram.Child ChunkGap { get; } = m._chunkGap.WithLabels(name);

        public Histogram.Child E2e { get; } = m._e2e.WithLabels(name);

        public Histogram.Child Lateness { get; } = m._lateness.WithLabels(name);

        public Counter.Child Status(string status) => _statuses.GetOrAdd(status, static (s, a) => a.m._requests.WithLabels(a.name, s), (m, name));
    }
}
