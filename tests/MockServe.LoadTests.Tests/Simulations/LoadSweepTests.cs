using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Tests.Simulations;

public class LoadSweepTests
{
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(30);

    [Fact]
    public void Simulations_CopiesSweep_StepsUsersUpEachHeldForTheHold()
    {
        var sweep = new LoadSweep(SweepKind.Copies, 10, 10, 3, Hold);
        var plan = LoadPlan.Create(sweep.Simulations);

        Assert.Equal(10, plan.CopiesAt(TimeSpan.FromSeconds(29)));
        Assert.Equal(20, plan.CopiesAt(TimeSpan.FromSeconds(45)));
        Assert.Equal(30, plan.CopiesAt(TimeSpan.FromSeconds(89)));
        Assert.Equal(TimeSpan.FromSeconds(90), plan.Duration);
    }

    [Fact]
    public void Simulations_UniformRateSweep_StartsTheRateInEachStep()
    {
        var sweep = new LoadSweep(SweepKind.UniformRate, 0.5, 0.5, 2, TimeSpan.FromSeconds(10));
        var starts = LoadPlan.Create(sweep.Simulations).IntendedStarts().ToList();

        // 0.5/s for 10 s is 5 starts, 1/s for 10 s is 10.
        Assert.Equal(5, starts.Count(t => t < TimeSpan.FromSeconds(10)));
        Assert.Equal(10, starts.Count(t => t >= TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Outcome_ThirdStepBreaks_LastHeldIsTheSecond()
    {
        var sweep = new LoadSweep(SweepKind.Copies, 10, 10, 5, Hold);

        var outcome = sweep.Outcome([true, true, false]);

        Assert.Equal(new SweepOutcome(1, 20, 2, 30, Finished: true), outcome);
    }

    [Fact]
    public void Outcome_FirstStepBreaks_NothingHeld()
    {
        var outcome = new LoadSweep(SweepKind.PoissonRate, 2, 2, 5, Hold).Outcome([false]);

        Assert.Equal(new SweepOutcome(null, null, 0, 2, Finished: true), outcome);
    }

    [Fact]
    public void Outcome_AllStepsHeld_LastStepHeldAndNoneBroke()
    {
        var outcome = new LoadSweep(SweepKind.Copies, 1, 1, 3, Hold).Outcome([true, true, true]);

        Assert.Equal(new SweepOutcome(2, 3, null, null, Finished: true), outcome);
    }

    [Fact]
    public void Outcome_SomeStepsStillToRun_NotFinished()
    {
        var outcome = new LoadSweep(SweepKind.Copies, 1, 1, 3, Hold).Outcome([true]);

        Assert.Equal(new SweepOutcome(0, 1, null, null, Finished: false), outcome);
    }

    [Fact]
    public void Constructor_FractionalCopies_ThrowsNamingFirst()
    {
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => new LoadSweep(SweepKind.Copies, 1.5, 1, 3, Hold));

        Assert.Equal("LoadSweep: first must be a whole number of copies; got 1.5.", ex.Message);
    }

    [Fact]
    public void Constructor_StepAboveCopiesCap_ThrowsFromTheFactory()
    {
        var ex = Assert.Throws<InvalidLoadSimulationException>(() => new LoadSweep(SweepKind.Copies, 50_000, 50_000, 3, Hold));

        Assert.Equal("KeepConstant", ex.Simulation);
    }
}
