using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using MockServe.Core.Engine;

using Prometheus;

namespace MockServe.Server.Metrics;

/// <summary>
/// The server's Prometheus metrics, fed by the engine's events and steps, by the pool snapshot taken before each
/// scrape, and by the server for requests the engine never finished. Every duration is in model seconds, the
/// engine's own time, so a run at any time scale reports what the modelled GPU would have shown.
/// </summary>
/// <remarks>
/// <see cref="OnEvent"/> and <see cref="OnStep"/> run on the engine's thread under its lock: they only update
/// pre-created metric children and one dictionary entry per request in flight, and allocate nothing per token.
/// One instance observes one engine. prometheus-net 8 refuses ':' in metric names, so vLLM's names are
/// created with the placeholder prefix <c>vllm_</c> and <see cref="ExportTextAsync"/> turns it back into
/// <c>vllm:</c> on the way out.
/// </remarks>
public sealed class ServerMetrics : IEngineObserver
{
    // Buckets, in model seconds unless named otherwise. TTFT and E2E reach an hour and more: a long queue behind
    // 200K-token prompts (minutes of prefill each on one A100) is a scenario MockServe exists to show.
    private static readonly double[] TtftBuckets =
        [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600];

    private static readonly double[] E2eBuckets =
        [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

    // An idle server queues nothing: the first bucket catches the zeros.
    private static readonly double[] QueueBuckets =
        [0.001, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    // Prefill of a 200K-token prompt on one A100 is minutes; a hot turn's few new tokens, milliseconds.
    private static readonly double[] PrefillBuckets =
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000];

    // A decode step reads all weights once: about 5 ms (8B on H100) to 35 ms (34B on A100) at batch 1, and it
    // grows with batch and context; gaps of seconds are prefill stalls and preemptions.
    private static readonly double[] ItlBuckets =
        [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly double[] BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

    // KV bytes over the host link: a 1K-token session on PCIe 4.0 is a few ms, a 200K-token one over a second.
    private static readonly double[] SwapBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private static readonly double[] StreamLagBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    // vLLM's own buckets (vllm/v1/metrics/loggers.py), so its dashboards' quantiles read the same.
    private static readonly double[] VllmTtftBuckets =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];

    private static readonly double[] VllmItlBuckets =
        [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

    private static readonly double[] VllmRequestBuckets =
        [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

    /// <summary>Stands for vLLM's "vllm:" in names until <see cref="ExportTextAsync"/> restores the colon.</summary>
    private const string VllmPrefix = "vllm_";

    // Arrival and last token per request in flight, for TTFT and every inter-token gap. Keyed by reference:
    // the engine hands the same request object to every event, and a record's value hash would walk its fields.
    private readonly Dictionary<InferenceRequest, InFlight> _inFlight = new(ReferenceEqualityComparer.Instance);

    private readonly Gauge _running;
    private readonly Gauge _waiting;
    private readonly Gauge _swapped;
    private readonly Gauge.Child _sessionsResident;
    private readonly Gauge.Child _sessionsSwapped;
    private readonly Gauge.Child _kvHbm;
    private readonly Gauge.Child _kvHost;
    private readonly Gauge.Child _kvHbmCapacity;
    private readonly Gauge.Child _kvHostCapacity;

    private readonly Counter _prefillTokens;
    private readonly Counter _cachedTokens;
    private readonly Histogram _prefillDuration;
    private readonly Histogram _ttft;

    private readonly Counter _generationTokens;
    private readonly Histogram _itl;
    private readonly Histogram _batchSize;

    private readonly Counter.Child _swapOutBytes;
    private readonly Counter.Child _swapInBytes;
    private readonly Histogram _swapDuration;
    private readonly Counter _contextSwitches;
    private readonly Counter.Child _preemptSwap;
    private readonly Counter.Child _preemptRecompute;
    private readonly Counter _recomputedTokens;

    private readonly Dictionary<string, Counter.Child> _outcomes = new(StringComparer.Ordinal);
    private readonly Counter.Child _finished;
    private readonly Counter.Child _cancelled;
    private readonly Histogram _e2e;
    private readonly Histogram _queue;
    private readonly Counter.Child _busyPrefill;
    private readonly Counter.Child _busyDecode;
    private readonly Counter.Child _busySwap;
    private readonly Histogram _streamLag;
    private readonly Counter.Child[] _cacheStates;

    private readonly Vllm? _vllm;

    public ServerMetrics(IMetricFactory factory, ServerMetricsInfo info)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(info);

        // Concurrency: set from the pool snapshot before every scrape.
        _running = factory.CreateGauge("mockserve_requests_running",
            "Requests in the running batch (prefilling or decoding), at the last scrape.");
        _waiting = factory.CreateGauge("mockserve_requests_waiting",
            "Requests waiting for admission (KV blocks or a batch slot), at the last scrape.");
        _swapped = factory.CreateGauge("mockserve_requests_swapped",
            "Preempted requests whose KV waits in host memory to be swapped back in, at the last scrape.");
        var sessions = factory.CreateGauge("mockserve_sessions",
            "Sessions by where their KV lives: resident in HBM (idle or running) or swapped to host memory.", ["state"]);
        _sessionsResident = sessions.WithLabels("resident");
        _sessionsSwapped = sessions.WithLabels("swapped");
        var kv = factory.CreateGauge("mockserve_kv_cache_bytes",
            "KV cache bytes in use per memory tier, running requests and idle sessions included.", ["tier"]);
        _kvHbm = kv.WithLabels("hbm");
        _kvHost = kv.WithLabels("host");
        var kvCapacity = factory.CreateGauge("mockserve_kv_cache_capacity_bytes",
            "KV cache bytes per memory tier: HBM left after weights and reserve, and host memory for swapped KV.", ["tier"]);
        _kvHbmCapacity = kvCapacity.WithLabels("hbm");
        _kvHostCapacity = kvCapacity.WithLabels("host");
        factory.CreateGauge("mockserve_max_concurrent_users",
            "Users with the configured reference context whose KV fits in HBM at once.").Set(info.MaxConcurrentUsers);

        // Prefilling.
        _prefillTokens = factory.CreateCounter("mockserve_prefill_tokens_total",
            "Prompt tokens prefilled, recomputed ones included; cached history is not prefilled and not counted.");
        _cachedTokens = factory.CreateCounter("mockserve_prefix_cache_hit_tokens_total",
            "Prompt tokens whose KV a turn reused from its session (in HBM or swapped in from host) instead of prefilling.");
        _prefillDuration = factory.CreateHistogram("mockserve_prefill_duration_seconds",
            "Model seconds of GPU steps that prefilled each finished request's prompt.",
            new HistogramConfiguration { Buckets = PrefillBuckets });
        _ttft = factory.CreateHistogram("mockserve_time_to_first_token_seconds",
            "Model seconds from a request's arrival to its first output token, queueing, swap-in and prefill included.",
            new HistogramConfiguration { Buckets = TtftBuckets });

        // Decoding.
        _generationTokens = factory.CreateCounter("mockserve_generation_tokens_total",
            "Output tokens generated.");
        _itl = factory.CreateHistogram("mockserve_inter_token_latency_seconds",
            "Model seconds between consecutive output tokens of the same request, every gap observed.",
            new HistogramConfiguration { Buckets = ItlBuckets });
        _batchSize = factory.CreateHistogram("mockserve_decode_batch_size",
            "Sequences decoded together in one engine step, per step that decoded any.",
            new HistogramConfiguration { Buckets = BatchBuckets });

        // Context switching.
        var swapBytes = factory.CreateCounter("mockserve_kv_swap_bytes_total",
            "KV bytes moved over the host link: out = HBM to host memory, in = host memory back to HBM.", ["direction"]);
        _swapOutBytes = swapBytes.WithLabels("out");
        _swapInBytes = swapBytes.WithLabels("in");
        _swapDuration = factory.CreateHistogram("mockserve_kv_swap_duration_seconds",
            "Model seconds each KV swap (out or in) took on the host link.",
            new HistogramConfiguration { Buckets = SwapBuckets });
        _contextSwitches = factory.CreateCounter("mockserve_context_switches_total",
            "KV swaps between HBM and host memory, out and in.");
        var preemptions = factory.CreateCounter("mockserve_preemptions_total",
            "Running requests evicted for lack of HBM, by what happened to their KV: swap or recompute.", ["mode"]);
        _preemptSwap = preemptions.WithLabels(PreemptionPolicies.Swap);
        _preemptRecompute = preemptions.WithLabels(PreemptionPolicies.Recompute);
        _recomputedTokens = factory.CreateCounter("mockserve_recomputed_tokens_total",
            "Tokens prefilled again because their KV had been dropped (session miss or recompute preemption).");

        // Requests.
        var requests = factory.CreateCounter("mockserve_requests_total",
            "Requests by outcome: finished or cancelled by the engine, or refused or failed by the server first.", ["outcome"]);
        foreach (string outcome in RequestOutcomes.All)
        {
            // Created at 0 so that every outcome is in the first scrape and rate() sees its first increase.
            _outcomes.Add(outcome, requests.WithLabels(outcome));
        }

        _finished = _outcomes[RequestOutcomes.Finished];
        _cancelled = _outcomes[RequestOutcomes.Cancelled];
        _e2e = factory.CreateHistogram("mockserve_e2e_request_latency_seconds",
            "Model seconds from arrival to last token, per finished (not cancelled) request.",
            new HistogramConfiguration { Buckets = E2eBuckets });
        _queue = factory.CreateHistogram("mockserve_request_queue_seconds",
            "Model seconds a finished (not cancelled) request waited: time to first token minus its swap-in and prefill.",
            new HistogramConfiguration { Buckets = QueueBuckets });
        var busy = factory.CreateCounter("mockserve_gpu_busy_seconds_total",
            "Model seconds the GPU was busy, by phase; a mixed step's compute is split by its prefill and decode token counts.",
            ["phase"]);
        _busyPrefill = busy.WithLabels("prefill");
        _busyDecode = busy.WithLabels("decode");
        _busySwap = busy.WithLabels("swap");
        factory.CreateGauge("mockserve_time_scale",
            "Wall-clock seconds per model second: 0.01 runs the modelled GPU 100 times faster than life.").Set(info.TimeScale);
        factory.CreateGauge("mockserve_build_info",
            "Always 1; the labels name the server version, model, GPU, tensor-parallel degree and scheduler.",
            ["version", "model", "gpu", "tp", "scheduler"])
            .WithLabels(info.Version, info.Model, info.Gpu, info.TensorParallel.ToString(CultureInfo.InvariantCulture), info.Scheduler)
            .Set(1);
        _streamLag = factory.CreateHistogram("mockserve_stream_lag_seconds",
            "Model seconds by which the server wrote due tokens to a client stream late, per message written.",
            new HistogramConfiguration { Buckets = StreamLagBuckets });
        var cacheStates = factory.CreateCounter("mockserve_cache_state_total",
            "Turns by where their session's history was when admitted: new, hot (HBM), host (swapped) or miss (dropped).",
            ["state"]);
        _cacheStates = new Counter.Child[Enum.GetValues<CacheState>().Length];
        foreach (var state in Enum.GetValues<CacheState>())
        {
            _cacheStates[(int)state] = cacheStates.WithLabels(Label(state));
        }

        _vllm = info.ExportVllmNames ? new Vllm(factory, info.Model) : null;
    }

    /// <summary>
    /// Writes <paramref name="registry"/> in the Prometheus text format with vLLM's metric names as vLLM spells
    /// them (<c>vllm:</c>). Serve /metrics with this instead of prometheus-net's exporter when vLLM names are on.
    /// </summary>
    public static async Task ExportTextAsync(CollectorRegistry registry, Stream destination, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(destination);
        using var buffer = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(buffer, cancel).ConfigureAwait(false);
        var text = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        RestoreVllmColons(text.Span);
        await destination.WriteAsync(text, cancel).ConfigureAwait(false);
    }

    /// <summary>Counts a request that ended in the server without an engine result (refused, or failed on purpose).</summary>
    /// <param name="outcome">One of <see cref="RequestOutcomes"/>.</param>
    /// <remarks>
    /// The engine's Finished event already counts every request it accepted as finished or cancelled; a request
    /// counted here as well appears under both outcomes.
    /// </remarks>
    /// <exception cref="ArgumentException">The outcome is not one of <see cref="RequestOutcomes.All"/>.</exception>
    public void CountRequest(string outcome)
    {
        if (!_outcomes.TryGetValue(outcome, out var counter))
        {
            throw new ArgumentException(
                $"outcome: '{outcome}' is not one of {string.Join(", ", RequestOutcomes.All)}", nameof(outcome));
        }

        counter.Inc();
    }

    /// <summary>Records how late, in model seconds, the server wrote due tokens to a client stream.</summary>
    public void ObserveStreamLag(double modelSeconds)
    {
        // A timer firing a hair early gives a tiny negative lag; a NaN would poison the sum for good.
        if (!double.IsNaN(modelSeconds))
        {
            _streamLag.Observe(Math.Max(0, modelSeconds));
        }
    }

    /// <summary>Sets the queue, session and KV gauges; the host calls it before every scrape.</summary>
    public void UpdatePool(PoolSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _running.Set(snapshot.Running);
        _waiting.Set(snapshot.Waiting);
        _swapped.Set(snapshot.SwappedRequests);
        _sessionsResident.Set(snapshot.SessionsResident);
        _sessionsSwapped.Set(snapshot.SessionsSwapped);
        _kvHbm.Set(snapshot.HbmBytesUsed);
        _kvHost.Set(snapshot.HostBytesUsed);
        _kvHbmCapacity.Set(snapshot.HbmBytesTotal);
        _kvHostCapacity.Set(snapshot.HostBytesTotal);
        _vllm?.UpdatePool(snapshot);
    }

    public void OnEvent(in EngineEvent e)
    {
        switch (e.Kind)
        {
            case EngineEventKind.Queued:
                _inFlight[e.Request!] = new InFlight(e.Time);
                break;

            case EngineEventKind.Admitted:
                // A recompute-preempted request is admitted again; the flag only says it got KV at least once.
                ref var admitted = ref CollectionsMarshal.GetValueRefOrNullRef(_inFlight, e.Request!);
                if (!Unsafe.IsNullRef(ref admitted))
                {
                    admitted.Admitted = true;
                }

                break;

            case EngineEventKind.PrefillChunk:
                _prefillTokens.Inc(e.Count);
                break;

            case EngineEventKind.Token:
                OnToken(e);
                break;

            case EngineEventKind.SwapOut:
                OnSwap(_swapOutBytes, e);
                break;

            case EngineEventKind.SwapInStart:
                OnSwap(_swapInBytes, e);
                break;

            case EngineEventKind.Preempted:
                (e.Detail == PreemptionPolicies.Swap ? _preemptSwap : _preemptRecompute).Inc();
                _vllm?.Preemptions.Inc();
                break;

            case EngineEventKind.Finished:
                OnFinished(e);
                break;
        }
    }

    public void OnStep(in StepSummary step)
    {
        if (step.DecodeSequences > 0)
        {
            _batchSize.Observe(step.DecodeSequences);
        }

        if (step.SwapSeconds > 0)
        {
            _busySwap.Inc(step.SwapSeconds);
        }

        if (step.ComputeSeconds > 0)
        {
            _busyPrefill.Inc(step.PrefillSeconds);
            _busyDecode.Inc(step.DecodeSeconds);
        }
    }

    internal static void RestoreVllmColons(Span<byte> text)
    {
        // Text format 0.0.4: a family's name starts a sample line or follows "# HELP " / "# TYPE ". Label values
        // and help texts escape their newlines, so every raw '\n' starts a new line.
        ReadOnlySpan<byte> prefix = "vllm_"u8;
        while (!text.IsEmpty)
        {
            int name = text.StartsWith("# HELP "u8) || text.StartsWith("# TYPE "u8) ? 7 : 0;
            if (text[name..].StartsWith(prefix))
            {
                text[name + prefix.Length - 1] = (byte)':';
            }

            int end = text.IndexOf((byte)'\n');
            text = end < 0 ? [] : text[(end + 1)..];
        }
    }

    private static string Label(CacheState state) => state switch
    {
        CacheState.New => "new",
        CacheState.Hot => "hot",
        CacheState.Host => "host",
        CacheState.Miss => "miss",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "unknown cache state"),
    };

    private void OnToken(in EngineEvent e)
    {
        _generationTokens.Inc();
        _vllm?.GenerationTokens.Inc();
        ref var request = ref CollectionsMarshal.GetValueRefOrNullRef(_inFlight, e.Request!);
        if (Unsafe.IsNullRef(ref request))
        {
            return;
        }

        if (double.IsNaN(request.LastToken))
        {
            double ttft = e.Time - request.Arrival;
            _ttft.Observe(ttft);
            if (_vllm is { } vllm)
            {
                vllm.Ttft.Observe(ttft);
                // vLLM counts a request's whole prompt, cached part included, when its first token comes out.
                vllm.PromptTokens.Inc(e.Request!.PromptTokens);
            }
        }
        else
        {
            // The gap the client sees, preemption stalls and other requests' prefill chunks included.
            double gap = e.Time - request.LastToken;
            _itl.Observe(gap);
            _vllm?.ObserveGap(gap);
        }

        request.LastToken = e.Time;
    }

    private void OnSwap(Counter.Child bytes, in EngineEvent e)
    {
        bytes.Inc(e.Bytes);
        _swapDuration.Observe(e.Duration);
        _contextSwitches.Inc();
    }

    private void OnFinished(in EngineEvent e)
    {
        var result = e.Result!;
        _inFlight.Remove(e.Request!, out var request);
        bool cancelled = result.FinishReason == FinishReason.Cancelled;
        (cancelled ? _cancelled : _finished).Inc();
        _recomputedTokens.Inc(result.RecomputedTokens);

        // Counted here, once per turn, rather than at Admitted, which a recompute-preempted turn sees again.
        // A turn cancelled while still waiting never looked at its cache and has no cache state to count.
        if (request.Admitted)
        {
            _cachedTokens.Inc(result.CachedTokens);
            _cacheStates[(int)result.CacheState].Inc();
        }

        if (!cancelled)
        {
            _e2e.Observe(result.EndToEnd);
            _queue.Observe(result.QueueSeconds);
            _prefillDuration.Observe(result.PrefillSeconds);
        }

        _vllm?.OnFinished(result, request.Admitted);
    }

    /// <summary>Per request in flight: model times of arrival and of the last token (NaN before the first).</summary>
    private struct InFlight(double arrival)
    {
        public double Arrival = arrival;
        public double LastToken = double.NaN;
        public bool Admitted;
    }

    /// <summary>vLLM's names, types and buckets, labelled with model_name, for its dashboards and autoscalers.</summary>
    private sealed class Vllm
    {
        private readonly Gauge _running;
        private readonly Gauge _waiting;
        private readonly Gauge _swapped;
        private readonly Gauge _kvUsage;
        private readonly Gauge _gpuCacheUsage;
        private readonly Histogram _itl;
        private readonly Histogram _tpot;
        private readonly Histogram _e2e;
        private readonly Histogram _queue;
        private readonly Histogram _prefill;
        private readonly Histogram _decode;
        private readonly Counter.Child _length;
        private readonly Counter.Child _stop;
        private readonly Counter.Child _abort;
        private readonly Counter _cacheHits;
        private readonly Counter _cacheQueries;

        public Vllm(IMetricFactory root, string model)
        {
            var factory = root.WithLabels(new Dictionary<string, string> { ["model_name"] = model });
            _running = factory.CreateGauge(VllmPrefix + "num_requests_running",
                "Number of requests in model execution batches.");
            _waiting = factory.CreateGauge(VllmPrefix + "num_requests_waiting",
                "Number of requests waiting to be processed.");
            _swapped = factory.CreateGauge(VllmPrefix + "num_requests_swapped",
                "Number of requests swapped to CPU.");
            _kvUsage = factory.CreateGauge(VllmPrefix + "kv_cache_usage_perc",
                "KV-cache usage. 1 means 100 percent usage (HBM blocks held by running requests; idle sessions' cached blocks count as free, as vLLM counts its prefix cache).");
            _gpuCacheUsage = factory.CreateGauge(VllmPrefix + "gpu_cache_usage_perc",
                "GPU KV-cache usage. 1 means 100 percent usage. DEPRECATED: Use vllm:kv_cache_usage_perc instead.");
            Ttft = factory.CreateHistogram(VllmPrefix + "time_to_first_token_seconds",
                "Histogram of time to first token in model seconds.",
                new HistogramConfiguration { Buckets = VllmTtftBuckets });
            _itl = factory.CreateHistogram(VllmPrefix + "inter_token_latency_seconds",
                "Histogram of inter-token latency in model seconds.",
                new HistogramConfiguration { Buckets = VllmItlBuckets });
            _tpot = factory.CreateHistogram(VllmPrefix + "time_per_output_token_seconds",
                "Histogram of time per output token in model seconds. DEPRECATED: Use vllm:inter_token_latency_seconds instead.",
                new HistogramConfiguration { Buckets = VllmItlBuckets });
            _e2e = factory.CreateHistogram(VllmPrefix + "e2e_request_latency_seconds",
                "Histogram of e2e request latency in model seconds.",
                new HistogramConfiguration { Buckets = VllmRequestBuckets });
            _queue = factory.CreateHistogram(VllmPrefix + "request_queue_time_seconds",
                "Histogram of time spent in WAITING phase for request, in model seconds.",
                new HistogramConfiguration { Buckets = VllmRequestBuckets });
            _prefill = factory.CreateHistogram(VllmPrefix + "request_prefill_time_seconds",
                "Histogram of time spent in PREFILL phase for request (swap-in included), in model seconds.",
                new HistogramConfiguration { Buckets = VllmRequestBuckets });
            _decode = factory.CreateHistogram(VllmPrefix + "request_decode_time_seconds",
                "Histogram of time spent in DECODE phase for request, in model seconds.",
                new HistogramConfiguration { Buckets = VllmRequestBuckets });
            PromptTokens = factory.CreateCounter(VllmPrefix + "prompt_tokens_total",
                "Number of prefill tokens processed (whole prompts, cached tokens included).");
            GenerationTokens = factory.CreateCounter(VllmPrefix + "generation_tokens_total",
                "Number of generation tokens processed.");
            Preemptions = factory.CreateCounter(VllmPrefix + "num_preemptions_total",
                "Cumulative number of preemption from the engine.");
            var success = factory.CreateCounter(VllmPrefix + "request_success_total",
                "Count of successfully processed requests.", ["finished_reason"]);
            _length = success.WithLabels("length");
            _stop = success.WithLabels("stop");
            _abort = success.WithLabels("abort");
            _cacheHits = factory.CreateCounter(VllmPrefix + "prefix_cache_hits_total",
                "Prefix cache hits, in terms of number of cached tokens.");
            _cacheQueries = factory.CreateCounter(VllmPrefix + "prefix_cache_queries_total",
                "Prefix cache queries, in terms of number of queried tokens.");
        }

        public Histogram Ttft { get; }

        public Counter PromptTokens { get; }

        public Counter GenerationTokens { get; }

        public Counter Preemptions { get; }

        public void UpdatePool(PoolSnapshot snapshot)
        {
            _running.Set(snapshot.Running);
            _waiting.Set(snapshot.Waiting);
            _swapped.Set(snapshot.SwappedRequests);
            // vLLM counts cached blocks that nothing running holds as free; so are idle sessions' blocks here.
            double usage = snapshot.HbmBlocksTotal > 0 ? (double)(snapshot.HbmBlocksUsed - snapshot.HbmBlocksIdle) / snapshot.HbmBlocksTotal : 0;
            _kvUsage.Set(usage);
            _gpuCacheUsage.Set(usage);
        }

        public void ObserveGap(double gap)
        {
            _itl.Observe(gap);
            _tpot.Observe(gap);
        }

        public void OnFinished(RequestResult result, bool admitted)
        {
            switch (result.FinishReason)
            {
                case FinishReason.Length:
                    _length.Inc();
                    break;
                case FinishReason.Stop:
                    _stop.Inc();
                    break;
                default:
                    _abort.Inc();
                    break;
            }

            if (admitted)
            {
                _cacheQueries.Inc(result.PromptTokens);
                _cacheHits.Inc(result.CachedTokens);
            }

            if (result.FinishReason != FinishReason.Cancelled)
            {
                _e2e.Observe(result.EndToEnd);
                _queue.Observe(result.QueueSeconds);
                // vLLM's prefill phase runs from scheduling to first token, so it holds loading the KV too.
                _prefill.Observe(result.SwapInSeconds + result.PrefillSeconds);
                _decode.Observe(result.DecodeSeconds);
            }
        }
    }
}
