using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Scenarios;

/// <summary>What a scenario step knows about the invocation it runs (NBomber's IScenarioContext).</summary>
public sealed class ScenarioContext
{
    private readonly Action<RequestSample> _record;

    internal ScenarioContext(
        string scenario, Invocation invocation, LoadModel model, CopyState copy, TimeProvider time, Func<TimeSpan> now, Action<RequestSample> record, CancellationToken ct,
        CancellationToken planEnded = default)
    {
        PlanEnded = planEnded;
        _record = record;
        ScenarioName = scenario;
        Invocation = invocation;
        Model = model;
        Copy = copy;
        Time = time;
        Now = now;
        CancellationToken = ct;
    }

    public string ScenarioName { get; }

    /// <summary>Which copy, which invocation, and when it was meant to start and did start (offsets from the run's start).</summary>
    public Invocation Invocation { get; }

    /// <summary>Closed (copies loop) or open (arrivals): a multi-turn user keeps its conversation across a closed copy's invocations.</summary>
    public LoadModel Model { get; }

    /// <summary>State that lives as long as the copy: a closed copy's invocations run one after another and share it.</summary>
    public CopyState Copy { get; }

    /// <summary>The runner's clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>The time since the run's start on <see cref="Time"/>.</summary>
    public Func<TimeSpan> Now { get; }

    /// <summary>Cancelled when the run ends (after its grace period) or is aborted.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Cancelled when the load plan is over: finish what is in flight, start nothing new (a next turn, a retry).</summary>
    public CancellationToken PlanEnded { get; }

    /// <summary>
    /// Waits on <see cref="Time"/> until <see cref="Now"/> reaches <paramref name="due"/>: timers keep whole milliseconds
    /// and may fire a little early on the clock Now reads, so it waits again for what is left, and nothing the step
    /// starts afterwards is ever early.
    /// </summary>
    public async Task DelayUntilAsync(TimeSpan due, CancellationToken ct)
    {
        for (var left = due - Now(); left > TimeSpan.Zero; left = due - Now())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(left.TotalMilliseconds)), Time, ct);
        }
    }

    /// <summary>Records a request the step measured itself (an LLM turn); return <see cref="Response.Recorded"/> then.</summary>
    public void Record(RequestSample sample) => _record(sample);
}

/// <summary>One copy's own state, with a seeded random source of its own so a seed reproduces every copy's choices.</summary>
public sealed class CopyState(long copy, Random random)
{
    public long Number { get; } = copy;

    public Random Random { get; } = random;

    /// <summary>Whatever the step keeps between this copy's invocations (a conversation, a connection...).</summary>
    public object? Value { get; set; }
}
