namespace MockServe.LoadTests.Simulations;

/// <summary>What a sweep steps up: closed copies (users) or an open rate.</summary>
public enum SweepKind
{
    /// <summary>Each step is KeepConstant(copies, hold).</summary>
    Copies,

    /// <summary>Each step is InjectPoisson(rate, hold), starts per second.</summary>
    PoissonRate,

    /// <summary>Each step is Inject(rate, 1s, hold), starts per second spread evenly.</summary>
    UniformRate,
}

/// <summary>
/// A capacity sweep: the load steps up from <see cref="First"/> by <see cref="Increment"/> for <see cref="Count"/>
/// steps, each held for <see cref="Hold"/>. The runner judges each step (its SLOs over the invocations whose
/// <see cref="Invocation.Step"/> is that step) and <see cref="Outcome"/> reports the last step that held.
/// </summary>
public sealed class LoadSweep
{
    /// <summary>The most steps a sweep may have.</summary>
    public const int MaxSteps = 1_000;

    public LoadSweep(SweepKind kind, double first, double increment, int count, TimeSpan hold)
    {
        const string name = nameof(LoadSweep);
        if (count < 1 || count > MaxSteps)
        {
            throw new InvalidLoadSimulationException(name, nameof(count), count, $"between 1 and {MaxSteps}");
        }

        if (!double.IsFinite(increment) || increment < 0)
        {
            throw new InvalidLoadSimulationException(name, nameof(increment), increment, "a finite number at least 0");
        }

        if (kind == SweepKind.Copies && (first != Math.Floor(first) || increment != Math.Floor(increment)))
        {
            throw new InvalidLoadSimulationException(name, first != Math.Floor(first) ? nameof(first) : nameof(increment), first != Math.Floor(first) ? first : increment, "a whole number of copies");
        }

        Kind = kind;
        First = first;
        Increment = increment;
        Count = count;
        Hold = hold;
        // Each step validates its own load and hold through the factories, so a sweep takes the same ranges.
        Simulations = [.. Enumerable.Range(0, count).Select(StepSimulation)];
    }

    public SweepKind Kind { get; }

    public double First { get; }

    public double Increment { get; }

    public int Count { get; }

    public TimeSpan Hold { get; }

    /// <summary>The chain to give <see cref="LoadPlan.Create"/>: step i of the plan is step i of the sweep.</summary>
    public IReadOnlyList<LoadSimulation> Simulations { get; }

    /// <summary>The load of step <paramref name="step"/>: copies, or starts per second.</summary>
    public double LoadAt(int step) => First + (Increment * step);

    /// <summary>
    /// Reads the verdicts of the steps run so far, in order (true = every SLO held). The sweep stops at the first
    /// broken step; the step before it is the last that held.
    /// </summary>
    public SweepOutcome Outcome(IReadOnlyList<bool> held)
    {
        ArgumentNullException.ThrowIfNull(held);
        int? broken = null;
        for (int i = 0; i < held.Count && i < Count; i++)
        {
            if (!held[i])
            {
                broken = i;
                break;
            }
        }

        int judged = Math.Min(held.Count, Count);
        int? lastHeld = broken is { } b ? (b > 0 ? b - 1 : null) : (judged > 0 ? judged - 1 : null);
        return new SweepOutcome(
            lastHeld,
            lastHeld is { } h ? LoadAt(h) : null,
            broken,
            broken is { } f ? LoadAt(f) : null,
            Finished: broken is not null || judged == Count);
    }

    private LoadSimulation StepSimulation(int step) => Kind switch
    {
        SweepKind.Copies => Simulation.KeepConstant((int)Math.Min(int.MaxValue, LoadAt(step)), Hold),
        SweepKind.PoissonRate => Simulation.InjectPoisson(LoadAt(step), Hold),
        _ => Simulation.Inject(LoadAt(step), TimeSpan.FromSeconds(1), Hold),
    };
}

/// <summary>The result of a sweep's verdicts.</summary>
/// <param name="LastHeldStep">The last step that held before the first broken one; null when the first step broke or none was judged.</param>
/// <param name="LastHeldLoad">Its load (copies or starts per second).</param>
/// <param name="BrokenStep">The first step that broke; null when none did (the sweep did not reach saturation).</param>
/// <param name="BrokenLoad">Its load.</param>
/// <param name="Finished">True when the sweep need not go on: a step broke, or all steps were judged.</param>
public readonly record struct SweepOutcome(int? LastHeldStep, double? LastHeldLoad, int? BrokenStep, double? BrokenLoad, bool Finished);
