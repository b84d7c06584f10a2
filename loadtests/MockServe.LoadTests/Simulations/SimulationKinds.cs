namespace MockServe.LoadTests.Simulations;

// Open steps place their k-th start (k = 0, 1, ...) where the integrated rate reaches k + 1/2: each start sits in the
// middle of its own 1/rate slot. So Inject(rate: 10, interval: 1s) starts at 50ms, 150ms, ..., 950ms (ten per
// interval, all inside it, none on a boundary), a fractional rate gets its fair count, and a ramp from 0 does not
// start anything at its first instant.

internal sealed class KeepConstantSimulation(int copies, TimeSpan during) : LoadSimulation
{
    public override string Name => nameof(Simulation.KeepConstant);

    public override LoadModel Model => LoadModel.Closed;

    public override TimeSpan? Duration => during;

    public override string ToString() => $"{Name}(copies: {copies}, during: {Ticks.Describe(during)})";

    internal override int CopiesAt(int startCopies, TimeSpan since) => copies;

    internal override int EndCopies(int startCopies) => copies;
}

internal sealed class RampingConstantSimulation(int copies, TimeSpan during) : LoadSimulation
{
    public override string Name => nameof(Simulation.RampingConstant);

    public override LoadModel Model => LoadModel.Closed;

    public override TimeSpan? Duration => during;

    public override string ToString() => $"{Name}(copies: {copies}, during: {Ticks.Describe(during)})";

    // n = |copies - start| changes of one copy each; change j (1..n) happens at (j - 1/2) D / n, the middle of its
    // slot, so the count is the linear ramp rounded: floor(t n / D + 1/2), in whole ticks to stay exact.
    internal override int CopiesAt(int startCopies, TimeSpan since)
    {
        long n = Math.Abs(copies - startCopies);
        if (n == 0)
        {
            return copies;
        }

        long t = Math.Clamp(since.Ticks, 0, during.Ticks);
        long changes = Math.Min(n, ((2 * t * n) + during.Ticks) / (2 * during.Ticks));
        return startCopies + (Math.Sign(copies - startCopies) * (int)changes);
    }

    internal override TimeSpan? NextCopiesChange(int startCopies, TimeSpan since)
    {
        long n = Math.Abs(copies - startCopies);
        long done = Math.Abs(CopiesAt(startCopies, since) - startCopies);
        if (done >= n)
        {
            return null;
        }

        // The smallest tick T with floor((2 T n + D) / 2D) >= done + 1: T = ceil(D (2 done + 1) / 2n).
        long numerator = during.Ticks * ((2 * done) + 1);
        long next = (numerator + (2 * n) - 1) / (2 * n);
        return TimeSpan.FromTicks(next);
    }

    internal override int EndCopies(int startCopies) => copies;
}

internal sealed class IterationsForConstantSimulation(int copies, long iterations) : LoadSimulation
{
    public override string Name => nameof(Simulation.IterationsForConstant);

    public override LoadModel Model => LoadModel.Closed;

    public override TimeSpan? Duration => null;

    public override long? Iterations => iterations;

    public override string ToString() => $"{Name}(copies: {copies}, iterations: {iterations})";

    internal override int CopiesAt(int startCopies, TimeSpan since) => copies;

    internal override int EndCopies(int startCopies) => copies;
}

internal sealed class PauseSimulation(TimeSpan during) : LoadSimulation
{
    public override string Name => nameof(Simulation.Pause);

    public override LoadModel Model => LoadModel.Pause;

    public override TimeSpan? Duration => during;

    public override string ToString() => $"{Name}(during: {Ticks.Describe(during)})";
}

internal sealed class InjectSimulation(double rate, TimeSpan interval, TimeSpan during) : LoadSimulation
{
    private readonly double _perSecond = rate / interval.TotalSeconds;

    public override string Name => nameof(Simulation.Inject);

    public override LoadModel Model => LoadModel.Open;

    public override TimeSpan? Duration => during;

    public override string ToString() => $"{Name}(rate: {Ticks.Describe(rate)}, interval: {Ticks.Describe(interval)}, during: {Ticks.Describe(during)})";

    internal override double EndRatePerSecond(double startRate) => _perSecond;

    internal override IEnumerable<TimeSpan> Starts(double startRate, Random random) => Uniform(_perSecond, during, long.MaxValue);

    /// <summary>Starts (k + 1/2) / rate for k = 0, 1, ... while before <paramref name="end"/> and k below <paramref name="count"/>.</summary>
    internal static IEnumerable<TimeSpan> Uniform(double perSecond, TimeSpan end, long count)
    {
        double endSeconds = end.TotalSeconds;
        for (long k = 0; k < count; k++)
        {
            double t = (k + 0.5) / perSecond;
            if (t >= endSeconds)
            {
                yield break;
            }

            yield return Ticks.Inside(t, end);
        }
    }
}

internal sealed class IterationsForInjectSimulation(double rate, TimeSpan interval, long iterations) : LoadSimulation
{
    private readonly double _perSecond = rate / interval.TotalSeconds;

    public override string Name => nameof(Simulation.IterationsForInject);

    public override LoadModel Model => LoadModel.Open;

    // Exactly `iterations` slots of 1/rate: the last start sits half a slot before the end.
    public override TimeSpan? Duration => Ticks.FromSeconds(iterations / _perSecond);

    public override long? Iterations => iterations;

    public override string ToString() => $"{Name}(rate: {Ticks.Describe(rate)}, interval: {Ticks.Describe(interval)}, iterations: {iterations})";

    internal override double EndRatePerSecond(double startRate) => _perSecond;

    internal override IEnumerable<TimeSpan> Starts(double startRate, Random random) => InjectSimulation.Uniform(_perSecond, Duration!.Value, iterations);
}

internal sealed class RampingInjectSimulation(double rate, TimeSpan interval, TimeSpan during) : LoadSimulation
{
    private readonly double _perSecond = rate / interval.TotalSeconds;

    public override string Name => nameof(Simulation.RampingInject);

    public override LoadModel Model => LoadModel.Open;

    public override TimeSpan? Duration => during;

    public override string ToString() => $"{Name}(rate: {Ticks.Describe(rate)}, interval: {Ticks.Describe(interval)}, during: {Ticks.Describe(during)})";

    internal override double EndRatePerSecond(double startRate) => _perSecond;

    // The rate goes linearly r0 -> r1 over D, so the integrated rate is L(t) = r0 t + (r1 - r0) t^2 / 2D. Start k sits
    // where L(t) = k + 1/2 = m: the root of a t^2 + r0 t - m = 0 with a = (r1 - r0) / 2D, written as
    // t = 2m / (r0 + sqrt(r0^2 + 4 a m)) so that it stays exact when a is 0 and does not cancel when a < 0.
    internal override IEnumerable<TimeSpan> Starts(double startRate, Random random)
    {
        double r0 = startRate;
        double d = during.TotalSeconds;
        double a = (_perSecond - r0) / (2 * d);
        for (long k = 0; ; k++)
        {
            double m = k + 0.5;
            double disc = (r0 * r0) + (4 * a * m);
            if (disc < 0)
            {
                yield break;
            }

            double denominator = r0 + Math.Sqrt(disc);
            if (denominator <= 0)
            {
                yield break;
            }

            double t = 2 * m / denominator;
            if (t >= d)
            {
                yield break;
            }

            yield return Ticks.Inside(t, during);
        }
    }
}

internal sealed class InjectRandomSimulation(double minRate, double maxRate, TimeSpan interval, TimeSpan during) : LoadSimulation
{
    public override string Name => nameof(Simulation.InjectRandom);

    public override LoadModel Model => LoadModel.Open;

    public override TimeSpan? Duration => during;

    public override string ToString() =>
        $"{Name}(minRate: {Ticks.Describe(minRate)}, maxRate: {Ticks.Describe(maxRate)}, interval: {Ticks.Describe(interval)}, during: {Ticks.Describe(during)})";

    internal override double EndRatePerSecond(double startRate) => (minRate + maxRate) / 2 / interval.TotalSeconds;

    // Each interval draws its rate; the integrated rate runs on across intervals, so a fractional rate carries its
    // remainder into the next interval instead of being rounded away in each.
    internal override IEnumerable<TimeSpan> Starts(double startRate, Random random)
    {
        double end = during.TotalSeconds;
        double length = interval.TotalSeconds;
        double need = 0.5;
        for (double from = 0; from < end; from += length)
        {
            double slice = Math.Min(length, end - from);
            double perSecond = (minRate + ((maxRate - minRate) * random.NextDouble())) / length;
            double at = 0;
            while (perSecond > 0 && need <= perSecond * (slice - at))
            {
                at += need / perSecond;
                need = 1;
                yield return Ticks.Inside(from + at, during);
            }

            need -= perSecond * (slice - at);
        }
    }
}

internal sealed class GammaSimulation(string name, double ratePerSecond, double shape, TimeSpan during) : LoadSimulation
{
    public override string Name => name;

    public override LoadModel Model => LoadModel.Open;

    public override TimeSpan? Duration => during;

    public override string ToString() => shape == 1 && name == nameof(Simulation.InjectPoisson)
        ? $"{Name}(ratePerSecond: {Ticks.Describe(ratePerSecond)}, during: {Ticks.Describe(during)})"
        : $"{Name}(ratePerSecond: {Ticks.Describe(ratePerSecond)}, burstiness: {Ticks.Describe(shape)}, during: {Ticks.Describe(during)})";

    internal override double EndRatePerSecond(double startRate) => ratePerSecond;

    // Gaps ~ Gamma(k, 1/(rate k)): mean 1/rate whatever k, as vLLM's benchmark_serving draws them. The first start
    // comes one gap after the step's start, as in a renewal process started at the step's start.
    internal override IEnumerable<TimeSpan> Starts(double startRate, Random random)
    {
        double end = during.TotalSeconds;
        double scale = 1 / (ratePerSecond * shape);
        double t = 0;
        while (true)
        {
            t += GammaSampler.Next(random, shape) * scale;
            if (t >= end)
            {
                yield break;
            }

            yield return Ticks.Inside(t, during);
        }
    }
}
