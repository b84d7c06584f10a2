namespace MockServe.LoadTests.Simulations;

/// <summary>
/// The load simulations, with NBomber's names and meanings, plus the arrival processes LLM benchmarks use
/// (Poisson, gamma with a burstiness factor). Chain them in order into a <see cref="LoadPlan"/>. Every factory
/// checks its arguments and throws <see cref="InvalidLoadSimulationException"/> naming the one out of range.
/// Rates are per <c>interval</c> and may be fractional (0.5 per second is one start every two seconds).
/// </summary>
public static class Simulation
{
    /// <summary>The most copies a closed step may keep.</summary>
    public const int MaxCopies = 100_000;

    /// <summary>The most starts per second an open step may make.</summary>
    public const double MaxRatePerSecond = 100_000;

    /// <summary>The most iterations an IterationsFor* step may make.</summary>
    public const long MaxIterations = 1_000_000_000;

    /// <summary>The burstiness range of <see cref="InjectGamma"/>: 1 is Poisson, below 1 burstier, above 1 steadier.</summary>
    public const double MinBurstiness = 0.01;

    /// <summary>See <see cref="MinBurstiness"/>.</summary>
    public const double MaxBurstiness = 100;

    /// <summary>The longest step.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(7);

    /// <summary>The shortest injection interval: timers below a millisecond are not kept by any OS scheduler here.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest injection interval.</summary>
    public static readonly TimeSpan MaxInterval = TimeSpan.FromDays(1);

    /// <summary>Keeps <paramref name="copies"/> copies running for <paramref name="during"/>, each looping the scenario.</summary>
    public static LoadSimulation KeepConstant(int copies, TimeSpan during)
    {
        const string name = nameof(KeepConstant);
        Copies(name, copies, 1);
        During(name, during);
        return new KeepConstantSimulation(copies, during);
    }

    /// <summary>Ramps copies linearly from the previous step's count to <paramref name="copies"/> over <paramref name="during"/>.</summary>
    public static LoadSimulation RampingConstant(int copies, TimeSpan during)
    {
        const string name = nameof(RampingConstant);
        Copies(name, copies, 0);
        During(name, during);
        return new RampingConstantSimulation(copies, during);
    }

    /// <summary>Starts <paramref name="rate"/> copies per <paramref name="interval"/>, spread uniformly inside it, never gated by completions.</summary>
    public static LoadSimulation Inject(double rate, TimeSpan interval, TimeSpan during)
    {
        const string name = nameof(Inject);
        Interval(name, interval);
        Rate(name, nameof(rate), rate, interval, allowZero: false);
        During(name, during);
        return new InjectSimulation(rate, interval, during);
    }

    /// <summary>Ramps the injection rate linearly from the previous step's rate (0 after a closed step or a pause) to <paramref name="rate"/>.</summary>
    public static LoadSimulation RampingInject(double rate, TimeSpan interval, TimeSpan during)
    {
        const string name = nameof(RampingInject);
        Interval(name, interval);
        Rate(name, nameof(rate), rate, interval, allowZero: true);
        During(name, during);
        return new RampingInjectSimulation(rate, interval, during);
    }

    /// <summary>Each interval draws a rate uniformly from [<paramref name="minRate"/>, <paramref name="maxRate"/>] (seeded by the plan) and injects at it.</summary>
    public static LoadSimulation InjectRandom(double minRate, double maxRate, TimeSpan interval, TimeSpan during)
    {
        const string name = nameof(InjectRandom);
        Interval(name, interval);
        Rate(name, nameof(minRate), minRate, interval, allowZero: true);
        Rate(name, nameof(maxRate), maxRate, interval, allowZero: false);
        if (maxRate < minRate)
        {
            throw new InvalidLoadSimulationException(name, nameof(maxRate), maxRate, $"at least minRate ({Ticks.Describe(minRate)})");
        }

        During(name, during);
        return new InjectRandomSimulation(minRate, maxRate, interval, during);
    }

    /// <summary>Keeps <paramref name="copies"/> copies looping until <paramref name="iterations"/> invocations have completed in all.</summary>
    public static LoadSimulation IterationsForConstant(int copies, long iterations)
    {
        const string name = nameof(IterationsForConstant);
        Copies(name, copies, 1);
        Iterations(name, iterations);
        return new IterationsForConstantSimulation(copies, iterations);
    }

    /// <summary>Injects at <paramref name="rate"/> per <paramref name="interval"/> until <paramref name="iterations"/> invocations have started.</summary>
    public static LoadSimulation IterationsForInject(double rate, TimeSpan interval, long iterations)
    {
        const string name = nameof(IterationsForInject);
        Interval(name, interval);
        Rate(name, nameof(rate), rate, interval, allowZero: false);
        Iterations(name, iterations);
        var perSecond = rate / interval.TotalSeconds;
        if (iterations / perSecond > MaxDuration.TotalSeconds)
        {
            throw new InvalidLoadSimulationException(
                name, nameof(iterations), iterations, $"at most {Ticks.Describe(Math.Floor(MaxDuration.TotalSeconds * perSecond))} at this rate (a step lasts at most {Ticks.Describe(MaxDuration)})");
        }

        return new IterationsForInjectSimulation(rate, interval, iterations);
    }

    /// <summary>Starts nothing for <paramref name="during"/>; closed copies stop after their current invocation.</summary>
    public static LoadSimulation Pause(TimeSpan during)
    {
        During(nameof(Pause), during);
        return new PauseSimulation(during);
    }

    /// <summary>Poisson arrivals: exponential gaps with mean 1/<paramref name="ratePerSecond"/>, drawn from the plan's seed.</summary>
    public static LoadSimulation InjectPoisson(double ratePerSecond, TimeSpan during)
    {
        const string name = nameof(InjectPoisson);
        Rate(name, nameof(ratePerSecond), ratePerSecond, TimeSpan.FromSeconds(1), allowZero: false);
        During(name, during);
        return new GammaSimulation(name, ratePerSecond, 1, during);
    }

    /// <summary>
    /// Gamma arrivals as vLLM's benchmark <c>--burstiness</c>: gaps drawn from a gamma distribution with shape
    /// k = <paramref name="burstiness"/> and scale 1/(rate k), so the mean rate stays <paramref name="ratePerSecond"/>
    /// while the coefficient of variation of the gaps is 1/sqrt(k): 1 is Poisson, below 1 burstier, above 1 steadier.
    /// </summary>
    public static LoadSimulation InjectGamma(double ratePerSecond, double burstiness, TimeSpan during)
    {
        const string name = nameof(InjectGamma);
        Rate(name, nameof(ratePerSecond), ratePerSecond, TimeSpan.FromSeconds(1), allowZero: false);
        if (!double.IsFinite(burstiness) || burstiness < MinBurstiness || burstiness > MaxBurstiness)
        {
            throw new InvalidLoadSimulationException(
                name, nameof(burstiness), burstiness, $"between {Ticks.Describe(MinBurstiness)} and {Ticks.Describe(MaxBurstiness)} (1 = Poisson)");
        }

        During(name, during);
        return new GammaSimulation(name, ratePerSecond, burstiness, during);
    }

    private static void Copies(string simulation, int copies, int min)
    {
        if (copies < min || copies > MaxCopies)
        {
            throw new InvalidLoadSimulationException(simulation, nameof(copies), copies, $"between {min} and {MaxCopies}");
        }
    }

    private static void During(string simulation, TimeSpan during)
    {
        if (during <= TimeSpan.Zero || during > MaxDuration)
        {
            throw new InvalidLoadSimulationException(simulation, nameof(during), during, $"greater than 0 and at most {Ticks.Describe(MaxDuration)}");
        }
    }

    private static void Interval(string simulation, TimeSpan interval)
    {
        if (interval < MinInterval || interval > MaxInterval)
        {
            throw new InvalidLoadSimulationException(
                simulation, nameof(interval), interval, $"between {Ticks.Describe(MinInterval)} and {Ticks.Describe(MaxInterval)}");
        }
    }

    private static void Rate(string simulation, string paramName, double rate, TimeSpan interval, bool allowZero)
    {
        var perSecond = rate / interval.TotalSeconds;
        bool ok = double.IsFinite(rate) && (allowZero ? rate >= 0 : rate > 0) && perSecond <= MaxRatePerSecond;
        if (!ok)
        {
            var lower = allowZero ? "at least 0" : "greater than 0";
            var per = interval == TimeSpan.FromSeconds(1) ? "" : $" (at most {Ticks.Describe(MaxRatePerSecond * interval.TotalSeconds)} per {Ticks.Describe(interval)})";
            throw new InvalidLoadSimulationException(
                simulation, paramName, rate, $"a finite number {lower} and at most {Ticks.Describe(MaxRatePerSecond)} per second{per}");
        }
    }

    private static void Iterations(string simulation, long iterations)
    {
        if (iterations < 1 || iterations > MaxIterations)
        {
            throw new InvalidLoadSimulationException(simulation, nameof(iterations), iterations, $"between 1 and {MaxIterations}");
        }
    }
}
