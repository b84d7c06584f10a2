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
    private readonly IReadOnlyDictionary<string, SloSet> _slosByScenario;
    private readonly bool _keepSamples;
    private long _order;

    /// <summary>A recorder that judges goodput by <paramref name="slos"/> (none: every successful request counts).</summary>
    /// <param name="slos">The thresholds of a request's goodput, for every scenario.</param>
    /// <param name="keepSamples">Keep every sample (without its gap list) for <c>requests.jsonl</c> and the charts.</param>
    public RunRecorder(SloSet? slos = null, bool keepSamples = true)
        : this(new Dictionary<string, SloSet>(), slos, keepSamples)
    {
    }

    /// <summary>A recorder with thresholds per scenario (NBomber's per-scenario thresholds), and a default for the others.</summary>
    /// <param name="slosByScenario">Each named scenario's thresholds; they replace <paramref name="defaultSlos"/> for it.</param>
    /// <param name="defaultSlos">The thresholds of scenarios not named (none: every successful request counts).</param>
    /// <param name="keepSamples">Keep every sample (without its gap list) for <c>requests.jsonl</c> and the charts.</param>
    public RunRecorder(IReadOnlyDictionary<string, SloSet> slosByScenario, SloSet? defaultSlos = null, bool keepSamples = true)
    {
        ArgumentNullException.ThrowIfNull(slosByScenario);
        _slosByScenario = slosByScenario;
        _slos = defaultSlos ?? SloSet.Empty;
        _keepSamples = keepSamples;
    }

    /// <summary>The thresholds of a scenario: its own, or the default.</summary>
    public SloSet SlosOf(string scenario) => _slosByScenario.GetValueOrDefault(scenario, _slos);

    /// <summary>Records a finished request.</summary>
    public void Record(RequestSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var scenario = Scenario(sample.Scenario);
        scenario.Record(sample, scenario.Slos.IsMetBy(sample), _keepSamples);
    }

    /// <summary>
    /// The counters and running TTFT p99 of every scenario so far: cheap enough for a progress line every second,
    /// unlike <see cref="GetStatistics"/>, which computes every percentile of every group.
    /// </summary>
    public IReadOnlyList<LiveSnapshot> Live() => [.. _scenarios.Values.OrderBy(s => s.Order).Select(s => s.Live())];

    /// <summary>
    /// Every threshold judged on its scenario's statistics. A scenario with thresholds that recorded no request has
    /// no statistics; it is judged on empty ones, so that its latency limits fail ("no values") rather than the run
    /// passing for want of a verdict.
    /// </summary>
    public IReadOnlyList<SloVerdict> Evaluate(RunStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        var silent = _slosByScenario.Keys
            .Where(name => statistics.Scenarios.All(s => s.Scenario != name))
            .Select(name => new ScenarioRecorder(name, 0, SlosOf(name)).ToStatistics(statistics.Duration));
        return [.. statistics.Scenarios.Concat(silent).SelectMany(s => SlosOf(s.Scenario).Thresholds.Select(t => t.Evaluate(s)))];
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
            : _scenarios.GetOrAdd(name, n => new ScenarioRecorder(n, Interlocked.Increment(ref _order), SlosOf(n)));
    }
}
