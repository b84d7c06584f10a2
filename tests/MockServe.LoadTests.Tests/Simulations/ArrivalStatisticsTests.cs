using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Tests.Simulations;

public class ArrivalStatisticsTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(1_000);

    private static (double Rate, double Cv) Measure(LoadSimulation simulation, int seed)
    {
        var starts = LoadPlan.Create([simulation], seed).IntendedStarts().Select(t => t.TotalSeconds).ToList();
        var gaps = starts.Zip(starts.Skip(1), (a, b) => b - a).ToList();
        double mean = gaps.Average();
        double sd = Math.Sqrt(gaps.Sum(g => (g - mean) * (g - mean)) / (gaps.Count - 1));
        return (starts.Count / Long.TotalSeconds, sd / mean);
    }

    [Fact]
    public void InjectPoisson_FixedSeed_MeanRateAndUnitCoefficientOfVariation()
    {
        // 50,000 expected starts: the count's sd is sqrt(50,000) = 224, so 2% (1,000) is 4.5 sd.
        var (rate, cv) = Measure(Simulation.InjectPoisson(50, Long), seed: 1);

        Assert.InRange(rate, 49, 51);
        // Exponential gaps: CV 1.
        Assert.InRange(cv, 0.97, 1.03);
    }

    [Fact]
    public void InjectGamma_BurstinessBelowOne_KeepsRateAndRaisesCv()
    {
        // Shape 0.25: CV = 1/sqrt(0.25) = 2; the count's sd is about sqrt(50,000 x 4) = 447, so 3% is 3.4 sd.
        var (rate, cv) = Measure(Simulation.InjectGamma(50, 0.25, Long), seed: 2);

        Assert.InRange(rate, 48.5, 51.5);
        Assert.InRange(cv, 1.9, 2.1);
    }

    [Fact]
    public void InjectGamma_BurstinessAboveOne_KeepsRateAndLowersCv()
    {
        // Shape 4: CV = 1/sqrt(4) = 0.5.
        var (rate, cv) = Measure(Simulation.InjectGamma(50, 4, Long), seed: 3);

        Assert.InRange(rate, 49, 51);
        Assert.InRange(cv, 0.48, 0.52);
    }

    [Fact]
    public void InjectGamma_BurstinessOne_IsThePoissonSchedule()
    {
        var poisson = LoadPlan.Create([Simulation.InjectPoisson(3, TimeSpan.FromSeconds(100))], seed: 9).IntendedStarts();
        var gamma = LoadPlan.Create([Simulation.InjectGamma(3, 1, TimeSpan.FromSeconds(100))], seed: 9).IntendedStarts();

        Assert.Equal(poisson, gamma);
    }

    [Fact]
    public void InjectPoisson_FractionalRate_KeepsItsMean()
    {
        // 0.2 per second over 20,000 s: 4,000 expected, sd 63; 5% is 3.2 sd.
        var starts = LoadPlan.Create([Simulation.InjectPoisson(0.2, TimeSpan.FromSeconds(20_000))], seed: 4).IntendedStarts().Count();

        Assert.InRange(starts, 3_800, 4_200);
    }
}
