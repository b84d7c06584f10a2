using MockServe.Core.Engine;

using Prometheus;

namespace MockServe.Server.Metrics;

/// <summary>
/// vLLM's metric names, types and buckets, labelled with model_name, so vLLM dashboards and autoscalers work
/// unchanged. Names carry the placeholder prefix <c>vllm_</c> until <see cref="MetricsExposition"/> writes them.
/// </summary>
internal sealed class VllmMetrics : IEngineObserver
{
    private const string Prefix = MetricsExposition.VllmPrefix;

    // vLLM's own buckets (vllm/v1/metrics/loggers.py), so its dashboards' quantiles read the same.
    private static readonly double[] TtftBuckets =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];

    private static readonly double[] ItlBuckets =
        [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

    private static readonly double[] RequestBuckets =
        [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

    private readonly Gauge _running;
    private readonly Gauge _waiting;
    private readonly Gauge _swapped;
    private readonly Gauge _kvUsage;
    private readonly Gauge _gpuCacheUsage;
    private readonly Histogram _ttft;
    private readonly Histogram _itl;
    private readonly Histogram _tpot;
    private readonly Histogram _e2e;
    private readonly Histogram _queue;
    private readonly Histogram _prefill;
    private readonly Histogram _decode;
    private readonly Counter _promptTokens;
    private readonly Counter _generationTokens;
    private readonly Counter _preemptions;
    private readonly Counter.Child _length;
    private readonly Counter.Child _stop;
    private readonly Counter.Child _abort;
    private readonly Counter _cacheHits;
    private readonly Counter _cacheQueries;

    public VllmMetrics(IMetricFactory root, string model)
    {
        var factory = root.WithLabels(new Dictionary<string, string> { ["model_name"] = model });
        _running = factory.CreateGauge(Prefix + "num_requests_running",
            "Number of requests in model execution batches.");
        _waiting = factory.CreateGauge(Prefix + "num_requests_waiting",
            "Number of requests waiting to be processed.");
        _swapped = factory.CreateGauge(Prefix + "num_requests_swapped",
            "Number of requests swapped to CPU.");
        _kvUsage = factory.CreateGauge(Prefix + "kv_cache_usage_perc",
            "KV-cache usage. 1 means 100 percent usage (HBM blocks held by running requests; idle sessions' cached blocks count as free, as vLLM counts its prefix cache).");
        _gpuCacheUsage = factory.CreateGauge(Prefix + "gpu_cache_usage_perc",
            "GPU KV-cache usage. 1 means 100 percent usage. DEPRECATED: Use vllm:kv_cache_usage_perc instead.");
        _ttft = factory.CreateHistogram(Prefix + "time_to_first_token_seconds",
            "Histogram of time to first token in model seconds.",
            new HistogramConfiguration { Buckets = TtftBuckets });
        _itl = factory.CreateHistogram(Prefix + "inter_token_latency_seconds",
            "Histogram of inter-token latency in model seconds.",
            new HistogramConfiguration { Buckets = ItlBuckets });
        _tpot = factory.CreateHistogram(Prefix + "time_per_output_token_seconds",
            "Histogram of time per output token in model seconds. DEPRECATED: Use vllm:inter_token_latency_seconds instead.",
            new HistogramConfiguration { Buckets = ItlBuckets });
        _e2e = factory.CreateHistogram(Prefix + "e2e_request_latency_seconds",
            "Histogram of e2e request latency in model seconds.",
            new HistogramConfiguration { Buckets = RequestBuckets });
        _queue = factory.CreateHistogram(Prefix + "request_queue_time_seconds",
            "Histogram of time spent in WAITING phase for request, in model seconds.",
            new HistogramConfiguration { Buckets = RequestBuckets });
        _prefill = factory.CreateHistogram(Prefix + "request_prefill_time_seconds",
            "Histogram of time spent in PREFILL phase for request (swap-in included), in model seconds.",
            new HistogramConfiguration { Buckets = RequestBuckets });
        _decode = factory.CreateHistogram(Prefix + "request_decode_time_seconds",
            "Histogram of time spent in DECODE phase for request, in model seconds.",
            new HistogramConfiguration { Buckets = RequestBuckets });
        _promptTokens = factory.CreateCounter(Prefix + "prompt_tokens_total",
            "Number of prefill tokens processed (whole prompts, cached tokens included).");
        _generationTokens = factory.CreateCounter(Prefix + "generation_tokens_total",
            "Number of generation tokens processed.");
        _preemptions = factory.CreateCounter(Prefix + "num_preemptions_total",
            "Cumulative number of preemption from the engine.");
        var success = factory.CreateCounter(Prefix + "request_success_total",
            "Count of successfully processed requests.", ["finished_reason"]);
        _length = success.WithLabels("length");
        _stop = success.WithLabels("stop");
        _abort = success.WithLabels("abort");
        _cacheHits = factory.CreateCounter(Prefix + "prefix_cache_hits_total",
            "Prefix cache hits, in terms of number of cached tokens.");
        _cacheQueries = factory.CreateCounter(Prefix + "prefix_cache_queries_total",
            "Prefix cache queries, in terms of number of queried tokens.");
    }

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

    public void OnEvent(in EngineEvent e)
    {
        switch (e.Kind)
        {
            case EngineEventKind.Token:
                _generationTokens.Inc();
                if (e.Count == 1)
                {
                    _ttft.Observe(e.Gap);
                    // vLLM counts a request's whole prompt, cached part included, when its first token comes out.
                    _promptTokens.Inc(e.Request!.PromptTokens);
                }
                else
                {
                    _itl.Observe(e.Gap);
                    _tpot.Observe(e.Gap);
                }

                break;

            case EngineEventKind.Preempted:
                _preemptions.Inc();
                break;

            case EngineEventKind.Finished:
                OnFinished(e.Result!);
                break;
        }
    }

    public void OnStep(in StepSummary step)
    {
    }

    private void OnFinished(RequestResult result)
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

        if (result.Admitted)
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
