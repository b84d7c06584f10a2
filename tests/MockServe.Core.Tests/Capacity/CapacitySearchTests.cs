using MockServe.Core.Capacity;
using MockServe.Core.Simulation;

namespace MockServe.Core.Tests.Capacity;

public class CapacitySearchTests
{
    // The fake's TTFT p99 is the load in seconds: an SLO of L seconds passes every load up to L.
    private static readonly SloSet Ttft37 = SloSet.Parse("ttft-p99=37s");

    [Fact]
    public void Run_MonotoneSlo_FindsTheExactLargestPassingLoad()
    {
        var fake = new FakeSimulator((load, _) => load);

        var result = CapacitySearch.Run(fake, new CapacitySearchOptions { Slos = Ttft37 });

        // Doubling from 1: 1 2 4 8 16 32 pass, 64 fails; bisecting 32..64: 48 F, 40 F, 36 P, 38 F, 37 P; 37..38 is one apart.
        Assert.Equal(37, result.Answer);
        Assert.Equal(38, result.FailedAt);
        Assert.False(result.StepLimitReached);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 48, 40, 36, 38, 37], result.Points.Select(p => p.Load));
        Assert.Equal(37, result.At.Load);
    }

    [Fact]
    public void Run_StartAboveTheAnswer_HalvesThenBisects()
    {
        var fake = new FakeSimulator((load, _) => load);

        var result = CapacitySearch.Run(fake, new CapacitySearchOptions { Slos = Ttft37, Start = 40 });

        // 40 F, 20 P; bisecting 20..40: 30 P, 35 P, 37 P, 38 F.
        Assert.Equal(37, result.Answer);
        Assert.Equal([40, 20, 30, 35, 37, 38], result.Points.Select(p => p.Load));
    }

    [Fact]
    public void Run_StepLimit_AnswersTheLargestPassSoFarAndSaysSo()
    {
        var fake = new FakeSimulator((load, _) => load);

        var result = CapacitySearch.Run(fake, new CapacitySearchOptions { Slos = Ttft37, MaxSteps = 5 });

        // Five points: 1 2 4 8 16, all passing; no failure bracketed yet.
        Assert.Equal(16, result.Answer);
        Assert.Null(result.FailedAt);
        Assert.True(result.StepLimitReached);
        Assert.Equal(5, fake.Calls);
    }

    [Fact]
    public void Run_EveryLoadPasses_StopsAtMaxWithoutGoingBeyond()
    {
        var fake = new FakeSimulator((_, _) => 0.5);

        var result = CapacitySearch.Run(fake, new CapacitySearchOptions { Slos = Ttft37, Max = 100 });

        // 1 2 4 8 16 32 64, then 128 clamped to the maximum 100.
        Assert.Equal(100, result.Answer);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 100], result.Points.Select(p => p.Load));
        Assert.False(result.StepLimitReached);
    }

    [Fact]
    public void Run_OneSeedFailsAPoint_ThePointFailsAndLaterSeedsAreNotRun()
    {
        // Seed 2 is slower: 4 x load seconds, so it fails above 37 / 4 = 9.25 users; seeds 1 and 3 alone would give 37.
        var fake = new FakeSimulator((load, seed) => seed == 2 ? 4 * load : load);

        var result = CapacitySearch.Run(fake, new CapacitySearchOptions { Slos = Ttft37, Seeds = [1, 2, 3] });

        Assert.Equal(9, result.Answer);
        var failed = result.Points.Single(p => p.Load == 10);
        Assert.False(failed.Passed);
        Assert.Equal([1, 2], failed.Runs.Select(r => r.Seed));
        Assert.Equal("seed 2: ttft-p99 40s > 37s", failed.Failure);
        Assert.Equal([1, 2, 3], result.At.Runs.Select(r => r.Seed));
    }

    [Fact]
    public void Run_OneUserFails_AnswersZeroWithTheMeasuredValues()
    {
        var fake = new FakeSimulator((load, _) => 50 + load);

        var result = CapacitySearch.Run(fake, new CapacitySearchOptions { Slos = Ttft37, Start = 4 });

        // 4 fails, 2 fails, 1 fails: the smallest load, so the answer is 0 and the point kept is 1 user at 51 s.
        Assert.Equal(0, result.Answer);
        Assert.Equal(1, result.At.Load);
        Assert.Equal(51, result.At.Worst(Ttft37.Thresholds[0]));
        Assert.Equal(1, result.FailedAt);
        Assert.False(result.StepLimitReached);
    }

    [Fact]
    public void Run_RateMode_StopsWithinThePrecision()
    {
        // TTFT p99 = 100 x rate seconds: the SLO of 37 s passes up to 0.37 conversations per second.
        var fake = new FakeSimulator((load, _) => 100 * load);

        var result = CapacitySearch.Run(fake, new CapacitySearchOptions
        {
            Slos = Ttft37,
            Mode = CapacityMode.Rate,
            Start = 0.1,
            Min = 0.01,
            Precision = 0.01,
        });

        Assert.InRange(result.Answer, 0.37 / 1.01, 0.37);
        Assert.True(result.FailedAt!.Value - result.Answer <= 0.01 * result.Answer);
        Assert.True(result.FailedAt > 0.37);
    }

    [Fact]
    public void Failure_NoTurnMeasured_FailsRatherThanPassingOnEmptyPercentiles()
    {
        var run = FakeSimulator.Measured(0) with { MeasuredTurns = 0 };

        Assert.Equal("no turn finished after the warm-up", CapacitySearch.Failure(run, Ttft37));
    }

    [Fact]
    public void Failure_MoreTurnsStrandedThanMeasured_Fails()
    {
        var run = FakeSimulator.Measured(1) with { MeasuredTurns = 12, StrandedTurns = 12 };

        Assert.Equal("12 turns unfinished or refused against 12 measured", CapacitySearch.Failure(run, Ttft37));
        Assert.Null(CapacitySearch.Failure(run with { StrandedTurns = 11 }, Ttft37));
    }

    [Fact]
    public void Binding_HighestShare_Wins()
    {
        var point = new CapacityPoint(8, [new SeedRun(1, FakeSimulator.Measured(1) with
        {
            ConcurrencyShare = 0.5,
            PrefillBusy = 0.7,
            DecodeBusy = 0.2,
            SwapBusy = 0.1,
        }, null)]);

        Assert.Equal(new BindingLimitChoice(BindingLimit.Prefilling, 0.7), point.Binding);
    }

    [Theory]
    [InlineData(1.0, 0.3, 1.0, 0.0, BindingLimit.Concurrency)]
    [InlineData(0.4, 0.3, 0.6, 0.0, BindingLimit.Decoding)]
    [InlineData(0.4, 0.3, 0.2, 0.9, BindingLimit.ContextSwitching)]
    public void Choose_FourShares_PicksTheLargestAndConcurrencyOnATie(double concurrency, double prefill, double decode, double swap, BindingLimit expected)
    {
        Assert.Equal(expected, BindingLimitChoice.Choose(concurrency, prefill, decode, swap).Limit);
    }

    [Fact]
    public void Goodput_AveragesGoodTurnsPerMeasuredSecondOverSeeds()
    {
        var point = new CapacityPoint(8, [
            new SeedRun(1, FakeSimulator.Measured(1) with { GoodTurns = 90, MeasuredSeconds = 270 }, null),
            new SeedRun(2, FakeSimulator.Measured(1) with { GoodTurns = 45, MeasuredSeconds = 270 }, null),
        ]);

        // (90 / 270 + 45 / 270) / 2 = (1/3 + 1/6) / 2 = 0.25 turns per second.
        Assert.Equal(0.25, point.Goodput, 12);
    }

    /// <summary>A simulator whose TTFT p99 is a function of load and seed; every other figure is fixed.</summary>
    private sealed class FakeSimulator(Func<double, int, double> ttftP99) : ICapacitySimulator
    {
        public int Calls { get; private set; }

        public CapacityRun Run(double load, int seed)
        {
            Calls++;
            return Measured(ttftP99(load, seed));
        }

        public static CapacityRun Measured(double ttftP99)
        {
            var ttft = new LatencySummary(100, ttftP99, ttftP99, ttftP99, ttftP99, ttftP99) { P95 = ttftP99 };
            var none = new LatencySummary(100, 0, 0, 0, 0, 0);
            return new CapacityRun { Ttft = ttft, Itl = none, E2e = none, MeasuredTurns = 100, MeasuredSeconds = 270 };
        }
    }
}
