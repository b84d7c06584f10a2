using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Scenarios;

/// <summary>
/// A named async step that many copies run, with its load simulations and thresholds, as in NBomber:
/// <c>Scenario.Create("name", async ctx =&gt; Response.Ok()).WithLoadSimulations(Simulation.Inject(10, 1s, 30s))</c>.
/// </summary>
public sealed record ScenarioProps
{
    internal ScenarioProps(string name, Func<ScenarioContext, Task<Response>> step)
    {
        Name = name;
        Step = step;
    }

    public string Name { get; }

    public Func<ScenarioContext, Task<Response>> Step { get; }

    public IReadOnlyList<LoadSimulation> LoadSimulations { get; init; } = [Simulation.KeepConstant(1, TimeSpan.FromSeconds(10))];

    public SloSet Thresholds { get; init; } = SloSet.Empty;

    public DriverOptions Driver { get; init; } = new();

    /// <summary>Runs once per copy when the run ends, with that copy's state: an LLM user closes its open session.</summary>
    public Func<CopyState, CancellationToken, Task>? CleanCopy { get; init; }

    public ScenarioProps WithLoadSimulations(params LoadSimulation[] simulations) => this with { LoadSimulations = simulations };

    public ScenarioProps WithThresholds(SloSet thresholds) => this with { Thresholds = thresholds };

    public ScenarioProps WithDriver(DriverOptions driver) => this with { Driver = driver };

    public ScenarioProps WithCleanCopy(Func<CopyState, CancellationToken, Task> clean) => this with { CleanCopy = clean };
}

public static class Scenario
{
    /// <exception cref="ArgumentException">An empty name.</exception>
    public static ScenarioProps Create(string name, Func<ScenarioContext, Task<Response>> step)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(step);
        return new ScenarioProps(name, step);
    }
}
