using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Tests.Simulations;

public class SimulationTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void KeepConstant_ZeroCopies_ThrowsNamingParameterValueAndRange()
    {
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => Simulation.KeepConstant(0, Second));

        Assert.Equal("copies", ex.ParamName);
        Assert.Equal("KeepConstant: copies must be between 1 and 100000; got 0.", ex.Message);
    }

    [Fact]
    public void RampingConstant_ZeroCopies_IsAllowedToRampDown()
    {
        var simulation = Simulation.RampingConstant(0, Second);

        Assert.Equal("RampingConstant(copies: 0, during: 1s)", simulation.ToString());
    }

    [Fact]
    public void Inject_NegativeRate_ThrowsNamingRate()
    {
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => Simulation.Inject(-1, Second, Second));

        Assert.Equal("rate", ex.ParamName);
        Assert.Equal("Inject: rate must be a finite number greater than 0 and at most 100000 per second; got -1.", ex.Message);
    }

    [Fact]
    public void Inject_RateAboveCapPerInterval_ThrowsWithCapPerInterval()
    {
        // 60,000 per 500 ms is 120,000 per second, above the 100,000 cap, which is 50,000 per 500 ms.
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => Simulation.Inject(60_000, TimeSpan.FromMilliseconds(500), Second));

        Assert.Contains("(at most 50000 per 500ms)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inject_ZeroDuring_ThrowsNamingDuring()
    {
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => Simulation.Inject(1, Second, TimeSpan.Zero));

        Assert.Equal("during", ex.ParamName);
        Assert.Equal("Inject: during must be greater than 0 and at most 604800s; got 0s.", ex.Message);
    }

    [Fact]
    public void Inject_SubMillisecondInterval_ThrowsNamingInterval()
    {
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => Simulation.Inject(1, TimeSpan.FromTicks(100), Second));

        Assert.Equal("interval", ex.ParamName);
        Assert.Equal("Inject: interval must be between 1ms and 86400s; got 0.01ms.", ex.Message);
    }

    [Fact]
    public void InjectRandom_MaxBelowMin_ThrowsNamingMaxRate()
    {
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => Simulation.InjectRandom(5, 2, Second, Second));

        Assert.Equal("maxRate", ex.ParamName);
        Assert.Equal("InjectRandom: maxRate must be at least minRate (5); got 2.", ex.Message);
    }

    [Fact]
    public void InjectGamma_ZeroBurstiness_ThrowsNamingBurstiness()
    {
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => Simulation.InjectGamma(1, 0, Second));

        Assert.Equal("burstiness", ex.ParamName);
        Assert.Equal("InjectGamma: burstiness must be between 0.01 and 100 (1 = Poisson); got 0.", ex.Message);
    }

    [Fact]
    public void InjectPoisson_NaNRate_Throws()
    {
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => Simulation.InjectPoisson(double.NaN, Second));

        Assert.Equal("ratePerSecond", ex.ParamName);
    }

    [Fact]
    public void IterationsForConstant_ZeroIterations_ThrowsNamingIterations()
    {
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => Simulation.IterationsForConstant(1, 0));

        Assert.Equal("iterations", ex.ParamName);
        Assert.Equal("IterationsForConstant: iterations must be between 1 and 1000000000; got 0.", ex.Message);
    }

    [Fact]
    public void IterationsForInject_LongerThanAWeek_ThrowsNamingIterations()
    {
        // 0.001 per second for 1,000 iterations is 1,000,000 s, past the 604,800 s a step may last.
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => Simulation.IterationsForInject(0.001, Second, 1_000));

        Assert.Equal("iterations", ex.ParamName);
        Assert.StartsWith("IterationsForInject: iterations must be at most 604", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pause_NegativeDuring_Throws()
    {
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => Simulation.Pause(TimeSpan.FromSeconds(-1)));

        Assert.Equal("Pause: during must be greater than 0 and at most 604800s; got -1s.", ex.Message);
    }

    [Fact]
    public void ToString_EachKind_WritesItsArguments()
    {
        Assert.Equal("Inject(rate: 2.5, interval: 1s, during: 30s)", Simulation.Inject(2.5, Second, TimeSpan.FromSeconds(30)).ToString());
        Assert.Equal("InjectPoisson(ratePerSecond: 3, during: 1s)", Simulation.InjectPoisson(3, Second).ToString());
        Assert.Equal("InjectGamma(ratePerSecond: 3, burstiness: 0.5, during: 1s)", Simulation.InjectGamma(3, 0.5, Second).ToString());
        Assert.Equal("IterationsForConstant(copies: 2, iterations: 5)", Simulation.IterationsForConstant(2, 5).ToString());
        Assert.Equal("Pause(during: 250ms)", Simulation.Pause(TimeSpan.FromMilliseconds(250)).ToString());
    }
}
