using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Running;

/// <summary>A live, read-only view of a run for its monitors: safe to read from any thread at any time.</summary>
public sealed class RunView
{
    private readonly Func<TimeSpan> _elapsed;
    private readonly RunRecorder _recorder;

    internal RunView(TimeProvider time, Func<TimeSpan> elapsed, TimeSpan? plannedDuration, IReadOnlyList<ScenarioView> scenarios, RunRecorder recorder)
    {
        Time = time;
        _elapsed = elapsed;
        PlannedDuration = plannedDuration;
        Scenarios = scenarios;
        _recorder = recorder;
    }

    /// <summary>The wall clock, for the monitors' own ticks.</summary>
    public TimeProvider Time { get; }

    /// <summary>Time since the run started, on the run's clock (model time when the run has a time scale).</summary>
    public TimeSpan Elapsed => _elapsed();

    /// <summary>The longest scenario's planned length; null when a scenario runs by iterations.</summary>
    public TimeSpan? PlannedDuration { get; }

    /// <summary>The scenarios, in the order given.</summary>
    public IReadOnlyList<ScenarioView> Scenarios { get; }

    /// <summary>Each scenario's counters and running TTFT p99 so far (cheap: fine every second).</summary>
    public IReadOnlyList<LiveSnapshot> Live() => _recorder.Live();
}

/// <summary>One scenario of a run: its name and its driver's live counters.</summary>
/// <param name="Name">The scenario's name.</param>
/// <param name="Counters">Its driver's counters (copies, in flight, started, dropped, queued...).</param>
public sealed record ScenarioView(string Name, DriverCounters Counters);
