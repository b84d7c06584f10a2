using System.Globalization;

using MockServe.LoadTests.Reports;
using MockServe.LoadTests.Scenarios;
using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Running;

/// <summary>One step of a sweep: the load it held and whether every threshold held under it.</summary>
public sealed record SweepStep(int Index, double Load, bool Held, RunReport Report);

/// <summary>The sweep's steps, run one after the other until one broke, and the last load that held.</summary>
public sealed record SweepResult(IReadOnlyList<SweepStep> Steps, SweepOutcome Outcome);

/// <summary>
/// Steps the load up (users or arrivals a second) and runs each step as a run of its own against its thresholds,
/// stopping at the first step that breaks one: the answer is the last load that held.
/// </summary>
public static class CapacitySweep
{
    /// <param name="scenarioAt">The scenario of step (index, load), under the step's load simulation, with its thresholds.</param>
    public static async Task<SweepResult> RunAsync(
        LoadSweep sweep, Func<int, double, LoadSimulation, ScenarioProps> scenarioAt, RunOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(scenarioAt);
        ArgumentNullException.ThrowIfNull(options);
        var steps = new List<SweepStep>();
        for (int i = 0; i < sweep.Count && !ct.IsCancellationRequested; i++)
        {
            double load = sweep.LoadAt(i);
            var scenario = scenarioAt(i, load, sweep.Simulations[i]);
            if (scenario.Thresholds.Thresholds.Count == 0)
            {
                throw new ArgumentException($"the scenario of step {i} has no thresholds: a sweep needs an SLO to break", nameof(scenarioAt));
            }

            var outcome = await LoadRunner.RunAsync([scenario], options with { ReportDirectory = null, Output = TextWriter.Null }, ct);
            bool held = outcome.Report.SlosPassed;
            steps.Add(new SweepStep(i, load, held, outcome.Report));
            await options.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"step {i}: load {load:0.###}: {(held ? "held" : "broke")} ({string.Join("; ", outcome.Report.Verdicts)})"));
            if (!held)
            {
                break;
            }
        }

        return new SweepResult(steps, sweep.Outcome([.. steps.Select(s => s.Held)]));
    }
}
