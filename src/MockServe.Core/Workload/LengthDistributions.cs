namespace MockServe.Core.Workload;

internal sealed class FixedLength(long value) : ILengthDistribution
{
    public string Name => "fixed";

    public string Spec => $"fixed:{value}";

    public long Min => value;

    public long Sample(Random random) => value;
}

/// <summary>Every whole number from min to max, both included, equally likely.</summary>
internal sealed class UniformLength(long min, long max) : ILengthDistribution
{
    public string Name => "uniform";

    public string Spec => $"uniform:{min}-{max}";

    public long Min => min;

    public long Sample(Random random) => min + random.NextInt64(max - min + 1);
}

/// <summary>Normal(mean, sd), rounded to the nearest whole number and clamped to [min, max].</summary>
internal sealed class NormalLength(long mean, long sd, long min, long max) : ILengthDistribution
{
    public string Name => "normal";

    public string Spec => $"normal:{mean},{sd},{min}-{max}";

    public long Min => min;

    public long Sample(Random random) => Clamp(mean + (sd * StandardNormal(random)), min, max);

    /// <summary>Box-Muller transform (Box and Muller, 1958): one standard normal from two uniforms.</summary>
    internal static double StandardNormal(Random random)
    {
        // 1 - U lies in (0, 1], so the logarithm is finite.
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    internal static long Clamp(double value, long min, long max)
    {
        double rounded = Math.Round(value, MidpointRounding.AwayFromZero);
        return rounded <= min ? min : rounded >= max ? max : (long)rounded;
    }
}

/// <summary>
/// Log-normal: exp(mu + sigma * Z), whose median is exp(mu); rounded and clamped to [min, max]. Prompt and output
/// lengths of real chat traces are long-tailed this way.
/// </summary>
internal sealed class LogNormalLength(double mu, double sigma, long min, long max) : ILengthDistribution
{
    public string Name => "lognormal";

    public string Spec => FormattableString.Invariant($"lognormal:mu={mu:R},{sigma:R},{min}-{max}");

    public long Min => min;

    public long Sample(Random random) =>
        NormalLength.Clamp(Math.Exp(mu + (sigma * NormalLength.StandardNormal(random))), min, max);
}

/// <summary>Token counts read from a file, each drawn with probability weight / total weight.</summary>
internal sealed class HistogramLength : ILengthDistribution
{
    private readonly long[] _tokens;
    private readonly double[] _cumulative;
    private readonly string _path;

    public HistogramLength(string path, IReadOnlyList<(long Tokens, double Weight)> bins)
    {
        _path = path;
        _tokens = new long[bins.Count];
        _cumulative = new double[bins.Count];
        double total = 0;
        for (int i = 0; i < bins.Count; i++)
        {
            total += bins[i].Weight;
            _tokens[i] = bins[i].Tokens;
            _cumulative[i] = total;
        }

        Min = bins.Where(b => b.Weight > 0).Min(b => b.Tokens);
    }

    public string Name => "hist";

    public string Spec => $"hist:{_path}";

    public long Min { get; }

    public long Sample(Random random)
    {
        double u = random.NextDouble() * _cumulative[^1];
        // The first bin whose cumulative weight exceeds u; bins of weight 0 are never chosen.
        int lo = 0, hi = _cumulative.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (_cumulative[mid] > u)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return _tokens[lo];
    }
}
