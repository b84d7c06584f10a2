namespace MockServe.Core.Workload;

/// <summary>
/// The median of a length distribution, for the figures that need one typical length (the users that fit at a
/// context). Sampled rather than computed: a histogram, a clamped normal or a log-normal each have a closed form,
/// but 10,001 draws from a fixed seed treat every kind alike and take well under a millisecond.
/// </summary>
public static class LengthMedian
{
    /// <summary>Odd, so the median is one draw: the 5,001st smallest.</summary>
    public const int Draws = 10_001;

    /// <summary>Fixed, so a spec always has the same median, whatever the run's seed.</summary>
    public const int Seed = 1;

    public static long Of(ILengthDistribution distribution)
    {
        ArgumentNullException.ThrowIfNull(distribution);
        var random = new Random(Seed);
        var draws = new long[Draws];
        for (int i = 0; i < draws.Length; i++)
        {
            draws[i] = distribution.Sample(random);
        }

        Array.Sort(draws);
        return draws[Draws / 2];
    }
}
