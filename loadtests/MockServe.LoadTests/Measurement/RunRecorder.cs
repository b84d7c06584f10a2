using System.Collections.Concurrent;

namespace MockServe.LoadTests.Measurement;

/// <summary>
/// Collects request samples from many streams at once into HdrHistograms, per scenario, overall, per turn and
/// per cache state, and counts goodput against an <see cref="SloSet"/> as each sample arrives.
/// </summary>
/// <remarks>
/// Thread-safe. Each scenario has its own lock, held only while a finished request's values go into its
/// histograms (a few dozen array increments, plus one per chunk gap): streams record once, at their end, so
/// the lock is taken at the request rate, not the token rate.
/// </remarks>
public sealed class RunRecorder
{
    private readonly ConcurrentDictionary<string, ScenarioRecorder> _scenarios = new(StringComparer.Ordinal);
    private readonly SloSet _slos;
    private readonly bool _keepSamples;
    private long _order;

    /// <summary>A recorder that judges goodput by <paramref name="slos"/> (none: every successful request counts).</summary>
    /// <param name="slos">The thresholds of a request's goodput.</param>
    /// <param name="keepSamples">Keep every sample (without its gap list) for <c>requests.jsonl</c>.</param>
    public RunRecorder(SloSet? slos = null, bool keepSamples = true)
    {
        _slos = slos ?? SloSet.Empty;
        _keepSamples = keepSamples;
    }

    /// <summary>The thresholds goodput is judged by.</summary>
    public SloSet Slos => _slos;

    /// <summary>Records a finished request.</summary>
    public void Record(RequestSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        bool met = sample.Ok && _slos.IsMetBy(sample);
        Scenario(sample.Scenario).Record(sample, met, _keepSamples);
    }

    /// <summary>Counts a request the driver dropped (in-flight cap reached, drop policy).</summary>
    public void RecordDriverDrop(string scenario) => Scenario(scenario).RecordDrop();

    /// <summary>Records the wait of a request the driver queued (in-flight cap reached, queue policy).</summary>
    public void RecordDriverQueueWait(string scenario, TimeSpan wait) => Scenario(scenario).RecordQueueWait(wait);

    /// <summary>The samples kept so far, scenario by scenario, in recording order within each.</summary>
    public IReadOnlyList<RequestSample> Samples() =>
        [.. _scenarios.Values.OrderBy(s => s.Order).SelectMany(s => s.Samples())];

    /// <summary>The statistics so far; rates divide by <paramref name="duration"/>, the run's length on the runner's clock.</summary>
    public RunStatistics GetStatistics(TimeSpan duration) =>
        new(duration, [.. _scenarios.Values.OrderBy(s => s.Order).Select(s => s.ToStatistics(duration))]);

    private ScenarioRecorder Scenario(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _scenarios.TryGetValue(name, out var existing)
            ? existing
            : _scenarios.GetOrAdd(name, n => new ScenarioRecorder(n, Interlocked.Increment(ref _order)));
    }
}
