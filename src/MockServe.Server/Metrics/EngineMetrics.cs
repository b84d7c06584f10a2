using System.Globalization;

using MockServe.Core.CostModel;
using MockServe.Core.Engine;

using Prometheus;

namespace MockServe.Server.Metrics;

/// <summary>
/// What the modelled GPU does, from the engine's events and steps and the pool snapshot taken before each scrape:
/// concurrency, prefilling, decoding and context switching. Durations are model seconds.
/// </summary>
internal sealed class EngineMetrics : IEngineObserver
{
    // Prefill of a 200K-token prompt on one A100 is minutes; a hot turn's few new tokens, milliseconds.
    private static readonly double[] PrefillBuckets =
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000];

    private static readonly double[] BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

    // KV bytes over the host link: a 1K-token session on PCIe 4.0 is a few ms, a 200K-token one over a second.
    private static readonly double[] SwapBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Gauge _running;
    private readonly Gauge _waiting;
    private readonly Gauge _swapped;
    private readonly Gauge.Child _sessionsResident;
    private readonly Gauge.Child _sessionsSwapped;
    private readonly Gauge _sessionsHeld;
    private readonly Counter.Child _sessionsEvictedLimit;
    private readonly Gauge.Child _kvHbm;
    private readonly Gauge.Child _kvHost;
    private readonly Gauge.Child _kvHbmCapacity;
    private readonly Gauge.Child _kvHostCapacity;
    private readonly Gauge.Child _prefixShared;
    private readonly Gauge.Child _prefixInUse;
    private readonly Gauge.Child _prefixFree;
    private readonly Counter _prefillTokens;
    private readonly Counter _cachedTokens;
    private readonly Histogram _prefillDuration;
    private readonly Counter _generationTokens;
    private readonly Histogram _batchSize;
    private readonly Counter.Child _swapOutBytes;
    private readonly Counter.Child _swapInBytes;
    private readonly Histogram _swapDuration;
    private readonly Counter _contextSwitches;
    private readonly Counter.Child _preemptSwap;
    private readonly Counter.Child _preemptRecompute;
    private readonly Counter _recomputedTokens;
    private readonly Counter.Child _busyPrefill;
    private readonly Counter.Child _busyDecode;
    private readonly Counter.Child _busySwap;
    private readonly Counter.Child[] _cacheStates;
    private readonly Counter _faults;
    private readonly Gauge? _decodeLimit;
    private readonly GpuCostModel? _costModel;
    private readonly long _referenceContext;
    private int _decodeLimitBatch;

    public EngineMetrics(IMetricFactory factory, ServerMetricsInfo info)
    {
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
        _sessionsHeld = factory.CreateGauge("mockserve_sessions_held",
            "Sessions the engine holds, idle or with a turn in flight, with KV or without, at the last scrape: at most Engine:MaxSessions.");
        _sessionsEvictedLimit = factory.CreateCounter("mockserve_sessions_evicted_total",
            "Idle sessions forgotten before their TTL, their KV freed, by reason: limit (a new session came while Engine:MaxSessions were held).",
            ["reason"]).WithLabels(SessionLimitPolicies.LimitReason);
        var kv = factory.CreateGauge("mockserve_kv_cache_bytes",
            "KV cache bytes in use per memory tier, running requests and idle sessions included, free prefix-cached blocks not.", ["tier"]);
        _kvHbm = kv.WithLabels("hbm");
        _kvHost = kv.WithLabels("host");
        var kvCapacity = factory.CreateGauge("mockserve_kv_cache_capacity_bytes",
            "KV cache bytes per memory tier: HBM left after weights and reserve, and host memory for swapped KV.", ["tier"]);
        _kvHbmCapacity = kvCapacity.WithLabels("hbm");
        _kvHostCapacity = kvCapacity.WithLabels("host");
        var prefix = factory.CreateGauge("mockserve_prefix_cache_blocks",
            "HBM blocks of automatic prefix caching (full blocks of text prompts and their answers, keyed by a hash chained over "
            + "their tokens), by state: shared (read by two or more running requests at once), in_use (by one) and free "
            + "(no request reads it; counted free in mockserve_kv_cache_bytes and evicted least recently used first).",
            ["state"]);
        (_prefixShared, _prefixInUse, _prefixFree) = (prefix.WithLabels("shared"), prefix.WithLabels("in_use"), prefix.WithLabels("free"));
        factory.CreateGauge("mockserve_max_concurrent_users",
            "Users with the configured reference context whose KV fits in HBM at once.").Set(info.MaxConcurrentUsers);

        // Prefilling.
        _prefillTokens = factory.CreateCounter("mockserve_prefill_tokens_total",
            "Prompt tokens prefilled, recomputed ones included; cached history is not prefilled and not counted.");
        _cachedTokens = factory.CreateCounter("mockserve_prefix_cache_hit_tokens_total",
            "Prompt tokens whose KV a request reused instead of prefilling: its session's history (in HBM or swapped in from host) or blocks of the prefix cache.");
        _prefillDuration = factory.CreateHistogram("mockserve_prefill_duration_seconds",
            "Model seconds of GPU steps that prefilled each finished request's prompt.",
            new HistogramConfiguration { Buckets = PrefillBuckets });
        var cacheStates = factory.CreateCounter("mockserve_cache_state_total",
            "Turns by where their session's history was when admitted: new, hot (HBM), host (swapped) or miss (dropped).",
            ["state"]);
        _cacheStates = new Counter.Child[Enum.GetValues<CacheState>().Length];
        foreach (var state in Enum.GetValues<CacheState>())
        {
            _cacheStates[(int)state] = cacheStates.WithLabels(Label(state));
        }

        // Decoding.
        _generationTokens = factory.CreateCounter("mockserve_generation_tokens_total",
            "Output tokens generated.");
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

        // The GPU and the build.
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
        _faults = factory.CreateCounter("mockserve_engine_faults_total",
            "Exceptions an engine observer (metrics, a trace) threw; each was caught and the engine went on.");

        // The limits a dashboard draws beside the live rates, in model time like every rate here.
        if (info.CostModel is { } cost)
        {
            _costModel = cost;
            _referenceContext = info.ReferenceContextTokens;
            factory.CreateGauge("mockserve_limit_prefill_tokens_per_second",
                "Prefill tokens per model second at the GPUs' compute peak (weight matmuls only): the prefill throughput limit.")
                .Set(cost.PeakPrefillTokensPerSecond);
            factory.CreateGauge("mockserve_limit_host_link_bytes_per_second",
                "KV bytes per model second the host links move each way (each GPU's PCIe or C2C link times the GPUs): the context-switch limit.")
                .Set(cost.HostLinkBytesPerSecond);
            _decodeLimit = factory.CreateGauge("mockserve_limit_decode_tokens_per_second",
                "Output tokens per model second of the last decode step's batch size, every sequence at the reference context: the decode limit at the current batch.");
            // One sequence until the engine decodes: the floor every batch starts from.
            SetDecodeLimit(1);
        }
    }

    public void CountFault() => _faults.Inc();

    public void UpdatePool(PoolSnapshot snapshot)
    {
        _running.Set(snapshot.Running);
        _waiting.Set(snapshot.Waiting);
        _swapped.Set(snapshot.SwappedRequests);
        _sessionsResident.Set(snapshot.SessionsResident);
        _sessionsSwapped.Set(snapshot.SessionsSwapped);
        _sessionsHeld.Set(snapshot.SessionsTotal);
        _kvHbm.Set(snapshot.HbmBytesUsed);
        _kvHost.Set(snapshot.HostBytesUsed);
        _kvHbmCapacity.Set(snapshot.HbmBytesTotal);
        _kvHostCapacity.Set(snapshot.HostBytesTotal);
        _prefixShared.Set(snapshot.PrefixBlocksShared);
        _prefixInUse.Set(snapshot.PrefixBlocksInUse - snapshot.PrefixBlocksShared);
        _prefixFree.Set(snapshot.PrefixBlocksFree);
    }

    public void OnEvent(in EngineEvent e)
    {
        switch (e.Kind)
        {
            case EngineEventKind.PrefillChunk:
                _prefillTokens.Inc(e.Count);
                break;

            case EngineEventKind.Token:
                _generationTokens.Inc();
                break;

            case EngineEventKind.SwapOut:
                OnSwap(_swapOutBytes, e);
                break;

            case EngineEventKind.SwapInStart:
                OnSwap(_swapInBytes, e);
                break;

            case EngineEventKind.Preempted:
                (e.Detail == PreemptionPolicies.Swap ? _preemptSwap : _preemptRecompute).Inc();
                break;

            case EngineEventKind.Finished:
                OnFinished(e.Result!);
                break;

            case EngineEventKind.SessionEvicted:
                _sessionsEvictedLimit.Inc();
                break;
        }
    }

    public void OnStep(in StepSummary step)
    {
        if (step.DecodeSequences > 0)
        {
            _batchSize.Observe(step.DecodeSequences);
            SetDecodeLimit(step.DecodeSequences);
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

    private static string Label(CacheState state) => state switch
    {
        CacheState.New => "new",
        CacheState.Hot => "hot",
        CacheState.Host => "host",
        CacheState.Miss => "miss",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "unknown cache state"),
    };

    private void SetDecodeLimit(int batch)
    {
        // Priced only when the batch size changes: the cost is O(batch) and the engine calls this every step.
        if (_costModel is null || batch == _decodeLimitBatch)
        {
            return;
        }

        _decodeLimitBatch = batch;
        _decodeLimit!.Set(_costModel.DecodeTokensPerSecond(batch, _referenceContext));
    }

    private void OnSwap(Counter.Child bytes, in EngineEvent e)
    {
        bytes.Inc(e.Bytes);
        _swapDuration.Observe(e.Duration);
        _contextSwitches.Inc();
    }

    private void OnFinished(RequestResult result)
    {
        _recomputedTokens.Inc(result.RecomputedTokens);

        // Counted once per turn here, rather than at Admitted, which a recompute-preempted turn sees again.
        // A turn cancelled while still waiting never looked at its cache and has no cache state to count.
        if (result.Admitted)
        {
            _cachedTokens.Inc(result.CachedTokens);
            _cacheStates[(int)result.CacheState].Inc();
        }

        if (result.FinishReason != FinishReason.Cancelled)
        {
            _prefillDuration.Observe(result.PrefillSeconds);
        }
    }
}
