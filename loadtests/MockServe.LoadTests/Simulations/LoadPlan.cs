namespace MockServe.LoadTests.Simulations;

/// <summary>
/// A chain of load simulations made concrete with a seed: pure, so it can be inspected and tested without running
/// anything. Open steps give their intended starts, closed steps their target copies as a function of time.
/// Offsets are from the run's start; after an IterationsForConstant step (whose length is known only when it has
/// run) the steps' offsets are unknown and only offsets from their own starts are given.
/// </summary>
public sealed class LoadPlan
{
    private LoadPlan(int seed, IReadOnlyList<PlanStep> steps)
    {
        Seed = seed;
        Steps = steps;
        var last = steps[^1];
        Duration = last.Start is { } start && last.Duration is { } duration ? start + duration : null;
        MaxCopies = steps.Max(s => s.MaxCopies);
    }

    /// <summary>The seed every random draw of the plan comes from.</summary>
    public int Seed { get; }

    /// <summary>The steps, in order.</summary>
    public IReadOnlyList<PlanStep> Steps { get; }

    /// <summary>The whole length, or null when an IterationsForConstant step makes it depend on the run.</summary>
    public TimeSpan? Duration { get; }

    /// <summary>The most copies any closed step asks for.</summary>
    public int MaxCopies { get; }

    /// <summary>Chains <paramref name="simulations"/> in order; each step starts where the previous one ended.</summary>
    public static LoadPlan Create(IEnumerable<LoadSimulation> simulations, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(simulations);
        var steps = new List<PlanStep>();
        TimeSpan? start = TimeSpan.Zero;
        int copies = 0;
        double rate = 0;
        foreach (var simulation in simulations)
        {
            ArgumentNullException.ThrowIfNull(simulation, nameof(simulations));
            // A closed step starts from the copies before it only when that was closed too; likewise for the rate.
            int startCopies = simulation.Model == LoadModel.Closed ? copies : 0;
            double startRate = simulation.Model == LoadModel.Open ? rate : 0;
            var step = new PlanStep(steps.Count, simulation, start, startCopies, startRate, StepSeed(seed, steps.Count));
            steps.Add(step);
            start = start is { } s && simulation.Duration is { } d ? s + d : null;
            copies = simulation.Model == LoadModel.Closed ? step.EndCopies : 0;
            rate = simulation.Model == LoadModel.Open ? step.EndRatePerSecond : 0;
        }

        if (steps.Count == 0)
        {
            throw new ArgumentException("A load plan needs at least one load simulation.", nameof(simulations));
        }

        return new LoadPlan(seed, steps);
    }

    /// <summary>The target copies at <paramref name="offset"/> from the run's start: 0 in open steps, pauses and after the end.</summary>
    /// <exception cref="InvalidOperationException">The offset lies after a step whose length is known only at run time.</exception>
    public int CopiesAt(TimeSpan offset)
    {
        var step = StepAt(offset);
        return step is null ? 0 : step.CopiesAt(offset - step.Start!.Value);
    }

    /// <summary>The step running at <paramref name="offset"/>, or null after the end.</summary>
    /// <exception cref="InvalidOperationException">The offset lies after a step whose length is known only at run time.</exception>
    public PlanStep? StepAt(TimeSpan offset)
    {
        foreach (var step in Steps)
        {
            if (step.Start is not { } start || step.Duration is not { } duration)
            {
                throw new InvalidOperationException($"Step {step.Index} ({step.Simulation}) lasts until its iterations are done; offsets after its start are known only at run time.");
            }

            if (offset < start + duration)
            {
                return step;
            }
        }

        return null;
    }

    /// <summary>Every intended start of the open steps, as offsets from the run's start, in order.</summary>
    /// <exception cref="InvalidOperationException">An open step follows a step whose length is known only at run time.</exception>
    public IEnumerable<TimeSpan> IntendedStarts()
    {
        foreach (var step in Steps)
        {
            if (step.Model != LoadModel.Open)
            {
                continue;
            }

            if (step.Start is not { } start)
            {
                throw new InvalidOperationException($"Step {step.Index} ({step.Simulation}) follows an IterationsForConstant step; its starts are known only from its own start.");
            }

            foreach (var t in step.Starts())
            {
                yield return start + t;
            }
        }
    }

    // Each step draws from its own stream, so editing one step does not reshuffle the others. (Not HashCode.Combine:
    // it is randomised per process, and a seed must reproduce a run.)
    private static int StepSeed(int seed, int index) => unchecked((seed * 1_000_003) + index);
}

/// <summary>One step of a <see cref="LoadPlan"/>.</summary>
public sealed class PlanStep
{
    private readonly int _seed;

    internal PlanStep(int index, LoadSimulation simulation, TimeSpan? start, int startCopies, double startRatePerSecond, int seed)
    {
        Index = index;
        Simulation = simulation;
        Start = start;
        StartCopies = startCopies;
        StartRatePerSecond = startRatePerSecond;
        _seed = seed;
        EndCopies = simulation.EndCopies(startCopies);
        EndRatePerSecond = simulation.EndRatePerSecond(startRatePerSecond);
        MaxCopies = Math.Max(startCopies, EndCopies);
    }

    /// <summary>The step's position in the chain, from 0.</summary>
    public int Index { get; }

    /// <summary>The simulation the step runs.</summary>
    public LoadSimulation Simulation { get; }

    /// <summary>Closed, open or pause.</summary>
    public LoadModel Model => Simulation.Model;

    /// <summary>The offset from the run's start, or null after a step whose length is known only at run time.</summary>
    public TimeSpan? Start { get; }

    /// <summary>The step's length, or null for IterationsForConstant.</summary>
    public TimeSpan? Duration => Simulation.Duration;

    /// <summary>The invocations the step makes, when bounded by a count.</summary>
    public long? Iterations => Simulation.Iterations;

    /// <summary>Closed steps: the copies the step starts from (those of the closed step before it, else 0).</summary>
    public int StartCopies { get; }

    /// <summary>Closed steps: the copies at the step's end.</summary>
    public int EndCopies { get; }

    /// <summary>Open steps: starts per second the step starts from (those of the open step before it, else 0).</summary>
    public double StartRatePerSecond { get; }

    /// <summary>Open steps: starts per second at the step's end.</summary>
    public double EndRatePerSecond { get; }

    internal int MaxCopies { get; }

    /// <summary>Target copies at <paramref name="since"/> from the step's start (0 unless closed).</summary>
    public int CopiesAt(TimeSpan since) => Simulation.CopiesAt(StartCopies, since);

    /// <summary>The first offset from the step's start after <paramref name="since"/> at which the target changes, or null.</summary>
    public TimeSpan? NextCopiesChange(TimeSpan since) => Simulation.NextCopiesChange(StartCopies, since);

    /// <summary>Open steps: the intended starts as offsets from the step's start, in order; the same sequence every call.</summary>
    public IEnumerable<TimeSpan> Starts() => Simulation.Starts(StartRatePerSecond, new Random(_seed));

    public override string ToString() => $"{Index}: {Simulation}";
}
