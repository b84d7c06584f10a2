using MockServe.Core.Engine;

using Prometheus;

namespace MockServe.Server.Metrics;

/// <summary>
/// The server's Prometheus metrics: the GPU's (<see cref="EngineMetrics"/>), the clients' (<see cref="RequestMetrics"/>)
/// and, when asked for, vLLM's names (<see cref="VllmMetrics"/>). As one engine observer it hands each event to
/// each part, so a fault in one does not cost the others the event. Every duration is in model seconds, the
/// engine's own time, so a run at any time scale reports what the modelled GPU would have shown.
/// </summary>
/// <remarks>
/// The observer methods run on the engine's thread: they only update pre-created metric children and allocate
/// nothing per token. One instance observes one engine.
/// </remarks>
public sealed class ServerMetrics : IEngineObserver
{
    private readonly EngineMetrics _engine;
    private readonly RequestMetrics _requests;
    private readonly VllmMetrics? _vllm;
    private readonly CompositeObserver _observers;

    /// <summary>The label that tells the replicas of a server with several apart.</summary>
    public const string ReplicaLabel = "replica";

    /// <summary>
    /// A factory for this class's metrics on <paramref name="registry"/>. Exemplars are off: nothing here has a trace
    /// to point at, and looking for one costs on every token.
    /// </summary>
    /// <param name="registry">The registry the metrics are exported from.</param>
    /// <param name="replica">
    /// The replica's index when the server has several: every metric then carries it as the static label
    /// <see cref="ReplicaLabel"/>, so that the replicas' series of one family share a registry. Null for a single
    /// engine, whose exposition has no such label.
    /// </param>
    public static IMetricFactory CreateFactory(CollectorRegistry registry, int? replica = null)
    {
        IMetricFactory factory = Prometheus.Metrics.WithCustomRegistry(registry);
        if (replica is { } index)
        {
            factory = factory.WithLabels(new Dictionary<string, string> { [ReplicaLabel] = index.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }

        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        return factory;
    }

    public ServerMetrics(IMetricFactory factory, ServerMetricsInfo info)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(info);
        _engine = new EngineMetrics(factory, info);
        _requests = new RequestMetrics(factory);
        _vllm = info.ExportVllmNames ? new VllmMetrics(factory, info.Model) : null;
        _observers = _vllm is null ? new CompositeObserver(_engine, _requests) : new CompositeObserver(_engine, _requests, _vllm);
    }

    /// <summary>Counts a request that ended in the server without an engine result (refused, or failed on purpose).</summary>
    /// <param name="outcome">One of <see cref="RequestOutcomes"/>.</param>
    /// <remarks>
    /// The engine's Finished event already counts every request it accepted as finished or cancelled; a request
    /// counted here as well appears under both outcomes.
    /// </remarks>
    /// <exception cref="ArgumentException">The outcome is not one of <see cref="RequestOutcomes.All"/>.</exception>
    public void CountRequest(string outcome) => _requests.Count(outcome);

    /// <summary>Records how late, in model seconds, the server wrote due tokens to a client stream.</summary>
    public void ObserveStreamLag(double modelSeconds) => _requests.ObserveStreamLag(modelSeconds);

    /// <summary>Counts an exception an engine observer threw (and the engine survived).</summary>
    public void CountEngineFault() => _engine.CountFault();

    /// <summary>Sets the queue, session and KV gauges; the host calls it before every scrape.</summary>
    public void UpdatePool(PoolSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _engine.UpdatePool(snapshot);
        _vllm?.UpdatePool(snapshot);
    }

    public void OnEvent(in EngineEvent e) => _observers.OnEvent(e);

    public void OnStep(in StepSummary step) => _observers.OnStep(step);
}
