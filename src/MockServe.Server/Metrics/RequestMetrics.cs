using MockServe.Core.Engine;

using Prometheus;

namespace MockServe.Server.Metrics;

/// <summary>
/// What clients live through: time to first token, every gap between tokens, end to end and queueing, from the
/// engine's events (a token carries its gap, so nothing is kept per request); the outcome of every request,
/// the server's refusals included; and how late the server wrote due tokens to their streams.
/// </summary>
internal sealed class RequestMetrics : IEngineObserver
{
    private static readonly double[] TtftBuckets = [.. LatencyBuckets.Ttft];
    private static readonly double[] E2eBuckets = [.. LatencyBuckets.E2e];
    private static readonly double[] ItlBuckets = [.. LatencyBuckets.Itl];

    // An idle server queues nothing: the first bucket catches the zeros.
    private static readonly double[] QueueBuckets =
        [0.001, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    private static readonly double[] StreamLagBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Dictionary<string, Counter.Child> _outcomes = new(StringComparer.Ordinal);
    private readonly Counter.Child _finished;
    private readonly Counter.Child _cancelled;
    private readonly Histogram _ttft;
    private readonly Histogram _itl;
    private readonly Histogram _e2e;
    private readonly Histogram _queue;
    private readonly Histogram _streamLag;

    public RequestMetrics(IMetricFactory factory)
    {
        var requests = factory.CreateCounter("mockserve_requests_total",
            "Requests by outcome: finished or cancelled by the engine, or refused or failed by the server first.", ["outcome"]);
        foreach (string outcome in RequestOutcomes.All)
        {
            // Created at 0 so that every outcome is in the first scrape and rate() sees its first increase.
            _outcomes.Add(outcome, requests.WithLabels(outcome));
        }

        _finished = _outcomes[RequestOutcomes.Finished];
        _cancelled = _outcomes[RequestOutcomes.Cancelled];
        _ttft = factory.CreateHistogram("mockserve_time_to_first_token_seconds",
            "Model seconds from a request's arrival to its first output token, queueing, swap-in and prefill included.",
            new HistogramConfiguration { Buckets = TtftBuckets });
        _itl = factory.CreateHistogram("mockserve_inter_token_latency_seconds",
            "Model seconds between consecutive output tokens of the same request, every gap observed.",
            new HistogramConfiguration { Buckets = ItlBuckets });
        _e2e = factory.CreateHistogram("mockserve_e2e_request_latency_seconds",
            "Model seconds from arrival to last token, per finished (not cancelled) request.",
            new HistogramConfiguration { Buckets = E2eBuckets });
        _queue = factory.CreateHistogram("mockserve_request_queue_seconds",
            "Model seconds a finished (not cancelled) request waited: time to first token minus its swap-in and prefill.",
            new HistogramConfiguration { Buckets = QueueBuckets });
        _streamLag = factory.CreateHistogram("mockserve_stream_lag_seconds",
            "Model seconds by which the server wrote due tokens to a client stream late, per message written.",
            new HistogramConfiguration { Buckets = StreamLagBuckets });
    }

    /// <exception cref="ArgumentException">The outcome is not one of <see cref="RequestOutcomes.All"/>.</exception>
    public void Count(string outcome)
    {
        if (!_outcomes.TryGetValue(outcome, out var counter))
        {
            throw new ArgumentException(
                $"outcome: '{outcome}' is not one of {string.Join(", ", RequestOutcomes.All)}", nameof(outcome));
        }

        counter.Inc();
    }

    public void ObserveStreamLag(double modelSeconds)
    {
        // A NaN would poison the sum for good; a lag never goes below zero.
        if (!double.IsNaN(modelSeconds))
        {
            _streamLag.Observe(Math.Max(0, modelSeconds));
        }
    }

    public void OnEvent(in EngineEvent e)
    {
        switch (e.Kind)
        {
            case EngineEventKind.Token:
                // The gap the client sees, preemption stalls and other requests' prefill chunks included.
                (e.Count == 1 ? _ttft : _itl).Observe(e.Gap);
                break;

            case EngineEventKind.Finished:
                var result = e.Result!;
                if (result.FinishReason == FinishReason.Cancelled)
                {
                    _cancelled.Inc();
                    break;
                }

                _finished.Inc();
                _e2e.Observe(result.EndToEnd);
                _queue.Observe(result.QueueSeconds);
                break;
        }
    }

    public void OnStep(in StepSummary step)
    {
    }
}
