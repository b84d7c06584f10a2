using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Tests.Simulations;

public class LoadPlanTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static TimeSpan Ms(double ms) => TimeSpan.FromTicks((long)Math.Round(ms * TimeSpan.TicksPerMillisecond));

    private static TimeSpan S(double seconds) => TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));

    private static int CountBetween(IEnumerable<TimeSpan> starts, TimeSpan from, TimeSpan to) => starts.Count(t => t >= from && t < to);

    [Fact]
    public void IntendedStarts_Inject_SpreadsRatePerIntervalInTheMiddleOfEachSlot()
    {
        var plan = LoadPlan.Create([Simulation.Inject(4, Second, TimeSpan.FromSeconds(2))]);

        // 4 per second: slots of 250 ms, each start in the middle of its slot.
        Assert.Equal([Ms(125), Ms(375), Ms(625), Ms(875), Ms(1125), Ms(1375), Ms(1625), Ms(1875)], plan.IntendedStarts());
    }

    [Fact]
    public void IntendedStarts_InjectWithHalfSecondInterval_StartsRateInEachInterval()
    {
        var starts = LoadPlan.Create([Simulation.Inject(10, Ms(500), Second)]).IntendedStarts().ToList();

        Assert.Equal(10, CountBetween(starts, TimeSpan.Zero, Ms(500)));
        Assert.Equal(10, CountBetween(starts, Ms(500), Second));
        Assert.Equal(Ms(25), starts[0]);
        Assert.Equal(Ms(975), starts[^1]);
    }

    [Fact]
    public void IntendedStarts_FractionalRate_StartsOneEveryTwoSeconds()
    {
        var plan = LoadPlan.Create([Simulation.Inject(0.5, Second, TimeSpan.FromSeconds(5))]);

        // Slots of 2 s: starts at 1 s and 3 s; the third slot's middle (5 s) is the step's end, not inside it.
        Assert.Equal([Second, TimeSpan.FromSeconds(3)], plan.IntendedStarts());
    }

    [Fact]
    public void IntendedStarts_RampingInjectFromZero_FollowsTheIntegratedLinearRate()
    {
        // 0 -> 8 per second over 2 s: rate 4t, integrated 2t^2; start k where 2t^2 = k + 1/2.
        var plan = LoadPlan.Create([Simulation.RampingInject(8, Second, TimeSpan.FromSeconds(2))]);

        var expected = Enumerable.Range(0, 8).Select(k => S(Math.Sqrt((k + 0.5) / 2)));
        var starts = plan.IntendedStarts().ToList();
        Assert.Equal(expected, starts);
        // 2t^2 is 2 at 1 s and 8 at 2 s.
        Assert.Equal(2, CountBetween(starts, TimeSpan.Zero, Second));
        Assert.Equal(6, CountBetween(starts, Second, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void IntendedStarts_RampingInjectAfterInject_RampsFromThePreviousRate()
    {
        // 2/s for 1 s, then 2 -> 6/s over 2 s: rate 2 + 2t, integrated 2t + t^2 = 3 at 1 s, 8 at 2 s.
        var plan = LoadPlan.Create([Simulation.Inject(2, Second, Second), Simulation.RampingInject(6, Second, TimeSpan.FromSeconds(2))]);

        var starts = plan.IntendedStarts().ToList();
        Assert.Equal(2.0, plan.Steps[1].StartRatePerSecond);
        Assert.Equal([Ms(250), Ms(750)], starts.Take(2));
        Assert.Equal(3, CountBetween(starts, Second, TimeSpan.FromSeconds(2)));
        Assert.Equal(5, CountBetween(starts, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)));
        // Start 0 of the ramp: 2t + t^2 = 1/2, t = sqrt(1.5) - 1.
        Assert.Equal(Second + S(Math.Sqrt(1.5) - 1), starts[2]);
    }

    [Fact]
    public void IntendedStarts_RampingInjectDown_SlowsToZero()
    {
        // 4 -> 0 per second over 2 s: rate 4 - 2t, integrated 4t - t^2 = 3 at 1 s, 4 at 2 s.
        var plan = LoadPlan.Create([Simulation.Inject(4, Second, Second), Simulation.RampingInject(0, Second, TimeSpan.FromSeconds(2))]);

        var starts = plan.IntendedStarts().ToList();
        Assert.Equal(3, CountBetween(starts, Second, TimeSpan.FromSeconds(2)));
        Assert.Equal(1, CountBetween(starts, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public void IntendedStarts_RampingInjectAfterClosedStep_RampsFromZero()
    {
        var plan = LoadPlan.Create([Simulation.KeepConstant(3, Second), Simulation.RampingInject(8, Second, TimeSpan.FromSeconds(2))]);

        Assert.Equal(0.0, plan.Steps[1].StartRatePerSecond);
        Assert.Equal(Second + S(Math.Sqrt(0.25)), plan.IntendedStarts().First());
    }

    [Fact]
    public void IntendedStarts_PauseBetweenInjects_LeavesAGap()
    {
        var plan = LoadPlan.Create([Simulation.Inject(2, Second, Second), Simulation.Pause(Second), Simulation.Inject(2, Second, Second)]);

        Assert.Equal([Ms(250), Ms(750), Ms(2250), Ms(2750)], plan.IntendedStarts());
        Assert.Equal(TimeSpan.FromSeconds(3), plan.Duration);
    }

    [Fact]
    public void IntendedStarts_IterationsForInject_StartsExactlyTheIterationsAndLastsTheirSlots()
    {
        var plan = LoadPlan.Create([Simulation.IterationsForInject(4, Second, 6), Simulation.Inject(2, Second, Second)]);

        // 6 slots of 250 ms = 1.5 s; the next step starts there.
        Assert.Equal(Ms(1500), plan.Steps[0].Duration);
        Assert.Equal([Ms(125), Ms(375), Ms(625), Ms(875), Ms(1125), Ms(1375), Ms(1750), Ms(2250)], plan.IntendedStarts());
    }

    [Fact]
    public void IntendedStarts_InjectRandom_EachIntervalStartsBetweenMinAndMax()
    {
        var starts = LoadPlan.Create([Simulation.InjectRandom(5, 10, Second, TimeSpan.FromSeconds(200))], seed: 7).IntendedStarts().ToList();

        for (int i = 0; i < 200; i++)
        {
            int count = CountBetween(starts, TimeSpan.FromSeconds(i), TimeSpan.FromSeconds(i + 1));
            Assert.InRange(count, 5, 10);
        }

        // Mean rate 7.5 over 200 intervals: 1,500 expected, sd of the sum about 20; 5% is 3.7 sd.
        Assert.InRange(starts.Count, 1_425, 1_575);
    }

    [Fact]
    public void IntendedStarts_SameSeed_SameSchedule()
    {
        LoadSimulation[] chain = [Simulation.InjectRandom(1, 20, Second, TimeSpan.FromSeconds(10)), Simulation.InjectGamma(5, 0.5, TimeSpan.FromSeconds(10))];

        var first = LoadPlan.Create(chain, seed: 42).IntendedStarts().ToList();
        var second = LoadPlan.Create(chain, seed: 42).IntendedStarts().ToList();
        var other = LoadPlan.Create(chain, seed: 43).IntendedStarts().ToList();

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void CopiesAt_KeepConstant_IsTheCopiesUntilTheEndThenZero()
    {
        var plan = LoadPlan.Create([Simulation.KeepConstant(5, TimeSpan.FromSeconds(10))]);

        Assert.Equal(5, plan.CopiesAt(TimeSpan.Zero));
        Assert.Equal(5, plan.CopiesAt(Ms(9999)));
        Assert.Equal(0, plan.CopiesAt(TimeSpan.FromSeconds(10)));
        Assert.Equal(TimeSpan.FromSeconds(10), plan.Duration);
    }

    [Fact]
    public void CopiesAt_RampingConstantChain_ChangesOneCopyInTheMiddleOfEachSlot()
    {
        // 2 copies for 1 s; 2 -> 6 over 4 s (changes 1 s apart at 0.5, 1.5, 2.5, 3.5 s into the step);
        // 6 -> 0 over 2 s (changes 1/3 s apart at 1/6, 1/2, 5/6, 7/6, 3/2, 11/6 s into the step).
        var plan = LoadPlan.Create(
            [Simulation.KeepConstant(2, Second), Simulation.RampingConstant(6, TimeSpan.FromSeconds(4)), Simulation.RampingConstant(0, TimeSpan.FromSeconds(2))]);

        Assert.Equal(2, plan.CopiesAt(Ms(1499)));
        Assert.Equal(3, plan.CopiesAt(Ms(1500)));
        Assert.Equal(4, plan.CopiesAt(Ms(2500)));
        Assert.Equal(6, plan.CopiesAt(Ms(4500)));
        Assert.Equal(6, plan.CopiesAt(Ms(5100)));
        Assert.Equal(4, plan.CopiesAt(Ms(5500)));
        Assert.Equal(1, plan.CopiesAt(Ms(6800)));
        Assert.Equal(0, plan.CopiesAt(Ms(6900)));
        Assert.Equal(0, plan.CopiesAt(TimeSpan.FromSeconds(8)));
        Assert.Equal(6, plan.MaxCopies);
    }

    [Fact]
    public void NextCopiesChange_RampingConstant_GivesEachChangeInTurnThenNull()
    {
        var step = LoadPlan.Create([Simulation.KeepConstant(2, Second), Simulation.RampingConstant(6, TimeSpan.FromSeconds(4))]).Steps[1];

        Assert.Equal(Ms(500), step.NextCopiesChange(TimeSpan.Zero));
        Assert.Equal(Ms(1500), step.NextCopiesChange(Ms(500)));
        Assert.Equal(Ms(3500), step.NextCopiesChange(Ms(2600)));
        Assert.Null(step.NextCopiesChange(Ms(3500)));
    }

    [Fact]
    public void CopiesAt_RampingConstantAfterInject_RampsFromZero()
    {
        var plan = LoadPlan.Create([Simulation.Inject(1, Second, Second), Simulation.RampingConstant(4, TimeSpan.FromSeconds(4))]);

        Assert.Equal(0, plan.Steps[1].StartCopies);
        Assert.Equal(0, plan.CopiesAt(Ms(1499)));
        Assert.Equal(1, plan.CopiesAt(Ms(1500)));
    }

    [Fact]
    public void Duration_IterationsForConstant_IsUnknownUntilRun()
    {
        var plan = LoadPlan.Create([Simulation.KeepConstant(1, Second), Simulation.IterationsForConstant(2, 10), Simulation.Inject(1, Second, Second)]);

        Assert.Null(plan.Duration);
        Assert.Null(plan.Steps[1].Duration);
        Assert.Equal(10, plan.Steps[1].Iterations);
        Assert.Null(plan.Steps[2].Start);
        Assert.Equal(1, plan.CopiesAt(Ms(500)));
        Assert.Throws<InvalidOperationException>(() => plan.CopiesAt(Ms(1500)));
        Assert.Throws<InvalidOperationException>(() => plan.IntendedStarts().ToList());
        Assert.Equal([Ms(500)], plan.Steps[2].Starts());
    }

    [Fact]
    public void Create_NoSimulations_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => LoadPlan.Create([]));

        Assert.Equal("simulations", ex.ParamName);
    }
}
