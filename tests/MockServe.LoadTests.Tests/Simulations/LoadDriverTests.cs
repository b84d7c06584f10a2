using Microsoft.Extensions.Time.Testing;

using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Tests.Simulations;

// Every test runs on a fake clock with the scenario called on the scheduling thread (StartInline), so advancing the
// clock runs the whole schedule in order, inside the advance. Two things would move work off that thread: a task
// completed on a thread with a synchronisation context (xunit's) runs its continuations on the thread pool, so Tick
// advances with none; and the clock's own Task.Delay completes asynchronously, so scenarios sleep with Sleep.
// FakeTimeProvider sets its time to the end of an Advance before it fires the timers due in it, so Tick advances a
// millisecond at a time: each timer then fires at its own millisecond.
public class LoadDriverTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _clock = new();
    private readonly List<Invocation> _calls = [];

    private static TimeSpan Ms(double ms) => TimeSpan.FromTicks((long)Math.Round(ms * TimeSpan.TicksPerMillisecond));

    private LoadDriver Driver(LoadSimulation[] chain, int maxInFlight = int.MaxValue, OverflowPolicy overflow = OverflowPolicy.Queue, TimeSpan? grace = null) =>
        new(LoadPlan.Create(chain), new DriverOptions { MaxInFlight = maxInFlight, Overflow = overflow, Grace = grace ?? TimeSpan.FromSeconds(30), StartInline = true }, _clock);

    private void Tick(TimeSpan span) => _clock.Tick(span);

    private Task Sleep(TimeSpan span, CancellationToken ct) => _clock.Sleep(span, ct);

    /// <summary>A scenario that takes <paramref name="serviceTime"/> on the fake clock.</summary>
    private Func<Invocation, CancellationToken, Task> Takes(TimeSpan serviceTime) => (invocation, ct) =>
    {
        lock (_calls)
        {
            _calls.Add(invocation);
        }

        return serviceTime == TimeSpan.Zero ? Task.CompletedTask : Sleep(serviceTime, ct);
    };

    [Fact]
    public async Task RunAsync_Inject_StartsEachInvocationAtItsIntendedTime()
    {
        var run = Driver([Simulation.Inject(4, Second, Second)]).RunAsync(Takes(TimeSpan.Zero), CancellationToken.None);

        Tick(Second);
        var summary = await run;

        Assert.Equal([Ms(125), Ms(375), Ms(625), Ms(875)], _calls.Select(c => c.IntendedStart));
        Assert.Equal(_calls.Select(c => c.IntendedStart), _calls.Select(c => c.ActualStart));
        Assert.All(_calls, c => Assert.Equal(TimeSpan.Zero, c.Lateness));
        Assert.Equal([0L, 1, 2, 3], _calls.Select(c => c.Number));
        Assert.Equal(4, summary.Completed);
        Assert.Equal(Second, summary.PlanEnd);
    }

    [Fact]
    public async Task RunAsync_StartDueBetweenMilliseconds_StartsAtTheMillisecondBefore()
    {
        // 3 per second: due at 166.67, 500 and 833.33 ms. Timers keep whole milliseconds, so the loop wakes at 166 and
        // 833 ms and starts what is due within the next one: early by 2/3 and 1/3 ms, recorded as negative lateness.
        var run = Driver([Simulation.Inject(3, Second, Second)]).RunAsync(Takes(TimeSpan.Zero), CancellationToken.None);

        Tick(Second);
        await run;

        Assert.Equal([Ms(166), Ms(500), Ms(833)], _calls.Select(c => c.ActualStart));
        Assert.Equal([Ms(-2.0 / 3), TimeSpan.Zero, Ms(-1.0 / 3)], _calls.Select(c => c.Lateness));
    }

    [Fact]
    public async Task RunAsync_InjectWithSlowScenario_NeverWaitsForCompletions()
    {
        var driver = Driver([Simulation.Inject(4, Second, Second)], grace: TimeSpan.FromSeconds(2));
        var run = driver.RunAsync(Takes(TimeSpan.FromSeconds(10)), CancellationToken.None);

        Tick(Ms(900));
        Assert.Equal(4, driver.Counters.InFlight);
        Assert.Equal(4, driver.Counters.Started);

        // The plan ends at 1 s; the grace of 2 s runs out at 3 s and the four are cancelled.
        Tick(Ms(2100));
        var summary = await run;

        Assert.Equal([Ms(125), Ms(375), Ms(625), Ms(875)], _calls.Select(c => c.ActualStart));
        Assert.Equal(4, summary.Cancelled);
        Assert.Equal(0, summary.Completed);
        Assert.Equal(TimeSpan.FromSeconds(3), summary.End);
        Assert.Equal(0, summary.Abandoned);
    }

    [Fact]
    public async Task RunAsync_CapWithQueue_WaitsForASlotAndTimesTheWait()
    {
        // Starts due at 125, 375, 625, 875 ms, each taking 1 s, two at a time: the third waits for the first to end
        // (1,125 ms, a wait of 500 ms), the fourth for the second (1,375 ms, 500 ms). The pause keeps the plan open.
        var driver = Driver([Simulation.Inject(4, Second, Second), Simulation.Pause(TimeSpan.FromSeconds(2))], maxInFlight: 2);
        var run = driver.RunAsync(Takes(Second), CancellationToken.None);

        Tick(Ms(900));
        Assert.Equal(2, driver.Counters.InFlight);
        Assert.Equal(2, driver.Counters.Queued);
        Assert.Equal(2, driver.Counters.QueuedTotal);

        Tick(Ms(2100));
        var summary = await run;

        Assert.Equal([Ms(125), Ms(375), Ms(1125), Ms(1375)], _calls.Select(c => c.ActualStart));
        Assert.Equal([TimeSpan.Zero, TimeSpan.Zero, Ms(500), Ms(500)], _calls.Select(c => c.QueueWait));
        Assert.Equal(Ms(500), _calls[2].Lateness);
        Assert.Equal(2, summary.Queued);
        Assert.Equal(Second, summary.TotalQueueWait);
        Assert.Equal(Ms(500), summary.MaxQueueWait);
        Assert.Equal(Ms(500), summary.MaxLateness);
        Assert.Equal(2, summary.PeakInFlight);
        Assert.Equal(4, summary.Completed);
    }

    [Fact]
    public async Task RunAsync_CapWithQueueAtPlanEnd_ExpiresTheQueuedAndLetsInFlightFinish()
    {
        var driver = Driver([Simulation.Inject(4, Second, Second)], maxInFlight: 2, grace: TimeSpan.FromSeconds(5));
        var run = driver.RunAsync(Takes(Second), CancellationToken.None);

        Tick(TimeSpan.FromSeconds(2));
        var summary = await run;

        Assert.Equal(2, summary.Expired);
        Assert.Equal(2, summary.Completed);
        // The second invocation, started at 375 ms, ends at 1,375 ms, inside the grace.
        Assert.Equal(Ms(1375), summary.End);
    }

    [Fact]
    public async Task RunAsync_CapWithDrop_CountsAndSkipsTheOverflow()
    {
        var driver = Driver([Simulation.Inject(4, Second, Second)], maxInFlight: 2, overflow: OverflowPolicy.Drop);
        var run = driver.RunAsync(Takes(Second), CancellationToken.None);

        Tick(TimeSpan.FromSeconds(2));
        var summary = await run;

        Assert.Equal(2, summary.Dropped);
        Assert.Equal(2, summary.Started);
        Assert.Equal(0, summary.Queued);
        Assert.Equal([0L, 1], _calls.Select(c => c.Number));
    }

    [Fact]
    public async Task RunAsync_KeepConstant_EachCopyLoopsBackToBack()
    {
        // Three copies, 500 ms per invocation, for 2 s: each copy starts at 0, 500, 1,000 and 1,500 ms.
        var driver = Driver([Simulation.KeepConstant(3, TimeSpan.FromSeconds(2))]);
        var run = driver.RunAsync(Takes(Ms(500)), CancellationToken.None);

        Assert.Equal(3, driver.Counters.CopiesRunning);
        Tick(TimeSpan.FromSeconds(2));
        var summary = await run;

        Assert.Equal(12, summary.Started);
        Assert.Equal(12, summary.Completed);
        Assert.Equal(3, summary.PeakCopies);
        for (int copy = 0; copy < 3; copy++)
        {
            Assert.Equal([TimeSpan.Zero, Ms(500), Second, Ms(1500)], _calls.Where(c => c.Copy == copy).Select(c => c.ActualStart));
        }

        Assert.Equal(0, driver.Counters.CopiesRunning);
    }

    [Fact]
    public async Task RunAsync_TargetDrops_CopyStopsAfterItsCurrentInvocation()
    {
        // Two copies for 1 s, then one: copy 1's invocation started at 800 ms runs on to 1,200 ms, then it stops.
        var driver = Driver([Simulation.KeepConstant(2, Second), Simulation.KeepConstant(1, Second)]);
        var run = driver.RunAsync(Takes(Ms(400)), CancellationToken.None);

        Tick(Ms(1100));
        Assert.Equal(1, driver.Counters.TargetCopies);
        Assert.Equal(2, driver.Counters.CopiesRunning);
        Tick(Ms(200));
        Assert.Equal(1, driver.Counters.CopiesRunning);
        Tick(Ms(700));
        await run;

        Assert.Equal([TimeSpan.Zero, Ms(400), Ms(800)], _calls.Where(c => c.Copy == 1).Select(c => c.ActualStart));
        Assert.Equal([TimeSpan.Zero, Ms(400), Ms(800), Ms(1200), Ms(1600)], _calls.Where(c => c.Copy == 0).Select(c => c.ActualStart));
    }

    [Fact]
    public async Task RunAsync_RampingConstant_AddsCopiesAtTheRampTimes()
    {
        // 0 -> 4 copies over 4 s: copies join at 0.5, 1.5, 2.5, 3.5 s; each invocation takes 1 s.
        var driver = Driver([Simulation.RampingConstant(4, TimeSpan.FromSeconds(4))]);
        var run = driver.RunAsync(Takes(Second), CancellationToken.None);

        // The copy that joined at 3.5 s finishes at 4.5 s, inside the grace.
        Tick(TimeSpan.FromSeconds(5));
        await run;

        Assert.Equal([Ms(500), Ms(1500), Ms(2500), Ms(3500)], Enumerable.Range(0, 4).Select(copy => _calls.First(c => c.Copy == copy).ActualStart));
    }

    [Fact]
    public async Task RunAsync_IterationsForConstantThenInject_NextStepStartsWhenIterationsAreDone()
    {
        // Two copies share 5 iterations of 100 ms: 2 at 0, 2 at 100 ms, 1 at 200 ms, done at 300 ms; then 2/s.
        var driver = Driver([Simulation.IterationsForConstant(2, 5), Simulation.Inject(2, Second, Second)]);
        var run = driver.RunAsync(Takes(Ms(100)), CancellationToken.None);

        Tick(TimeSpan.FromSeconds(2));
        var summary = await run;

        Assert.Equal(5, _calls.Count(c => c.Step == 0));
        Assert.Equal([Ms(550), Ms(1050)], _calls.Where(c => c.Step == 1).Select(c => c.IntendedStart));
        Assert.Equal(Ms(1300), summary.PlanEnd);
        Assert.Equal(7, summary.Completed);
    }

    [Fact]
    public async Task RunAsync_OriginBeforeTheDriverStarts_OffsetsCountFromTheOrigin()
    {
        // The run started 5 ms before this driver: its one start a second is due 500 ms after the run's start, not the driver's.
        long origin = _clock.GetTimestamp();
        Tick(Ms(5));
        var driver = Driver([Simulation.Inject(1, Second, Second)]);
        var run = driver.RunAsync(Takes(TimeSpan.Zero), CancellationToken.None, origin);

        Tick(TimeSpan.FromSeconds(2));
        await run;

        var call = Assert.Single(_calls);
        Assert.Equal(Ms(500), call.IntendedStart);
        Assert.Equal(Ms(500), call.ActualStart);
    }

    [Fact]
    public async Task PlanEnded_PlanOverWithACallInFlight_CancelledAtThePlansEndNotAtTheGraces()
    {
        // One copy for 1 s; its call takes 3 s, inside the 30 s grace: the plan is over at 1 s, the call is not cut.
        var driver = Driver([Simulation.KeepConstant(1, Second)]);
        var run = driver.RunAsync(Takes(TimeSpan.FromSeconds(3)), CancellationToken.None);

        Tick(Ms(999));
        Assert.False(driver.PlanEnded.IsCancellationRequested);
        Tick(Ms(2));
        Assert.True(driver.PlanEnded.IsCancellationRequested);
        Tick(TimeSpan.FromSeconds(3));
        var summary = await run;

        Assert.Equal(1, summary.Completed);
        Assert.Equal(0, summary.Cancelled);
    }

    [Fact]
    public async Task RunAsync_IterationsOfSynchronousStepsThenPause_NoCopyRunsPastTheIterations()
    {
        // On the real clock, with steps that finish at once: the copies must stop at the budget even when the driver
        // closes the iteration step while a copy is between two invocations (it once ran on through the pause).
        for (int run = 0; run < 20; run++)
        {
            long calls = 0;
            var driver = new LoadDriver(
                LoadPlan.Create([Simulation.IterationsForConstant(2, 50), Simulation.Pause(TimeSpan.FromMilliseconds(30))]),
                new DriverOptions(),
                TimeProvider.System);

            var summary = await driver.RunAsync((_, _) => { Interlocked.Increment(ref calls); return Task.CompletedTask; }, CancellationToken.None);

            Assert.Equal(50, Interlocked.Read(ref calls));
            Assert.Equal(50, summary.Completed);
        }
    }

    [Fact]
    public async Task RunAsync_ScenarioHoldsTheScheduler_NextStartIsLateByTheHold()
    {
        // The first call's synchronous part takes 300 ms (it moves the fake clock itself): the start due at 375 ms
        // can only happen at 125 + 300 = 425 ms, 50 ms late; the one due at 625 ms is on time again.
        var driver = Driver([Simulation.Inject(4, Second, Second)]);
        var run = driver.RunAsync(
            (invocation, ct) =>
            {
                _calls.Add(invocation);
                if (invocation.Number == 0)
                {
                    _clock.Advance(Ms(300));
                }

                return Task.CompletedTask;
            },
            CancellationToken.None);

        Tick(Second);
        var summary = await run;

        Assert.Equal([TimeSpan.Zero, Ms(50), TimeSpan.Zero, TimeSpan.Zero], _calls.Select(c => c.Lateness));
        Assert.Equal(Ms(50), summary.MaxLateness);
    }

    [Fact]
    public async Task RunAsync_ScenarioThrows_CountsFaultAndGoesOn()
    {
        var driver = Driver([Simulation.Inject(4, Second, Second)]);
        var run = driver.RunAsync(
            (invocation, ct) => invocation.Number % 2 == 0 ? throw new InvalidOperationException("boom") : Task.CompletedTask,
            CancellationToken.None);

        Tick(Second);
        var summary = await run;

        Assert.Equal(2, summary.Faulted);
        Assert.Equal(2, summary.Completed);
        Assert.Equal(4, summary.Started);
    }

    [Fact]
    public async Task RunAsync_CallerCancels_StopsStartingAndCancelsInFlight()
    {
        using var cts = new CancellationTokenSource();
        var driver = Driver([Simulation.Inject(4, Second, TimeSpan.FromSeconds(10))]);
        var run = driver.RunAsync(Takes(TimeSpan.FromSeconds(5)), cts.Token);

        Tick(Ms(500));
        await cts.CancelAsync();
        var summary = await run;

        Assert.True(summary.Aborted);
        Assert.Equal(2, summary.Started);
        Assert.Equal(2, summary.Cancelled);
        Assert.Equal(Ms(500), summary.PlanEnd);
    }

    [Fact]
    public async Task Stop_FromStepStarted_EndsThePlanBeforeThatStepWithGrace()
    {
        // One copy, 400 ms per call; step 1 is refused as it starts at 1 s: the call started at 800 ms ends at 1,200 ms.
        var driver = Driver([Simulation.KeepConstant(1, Second), Simulation.KeepConstant(2, Second), Simulation.KeepConstant(3, Second)]);
        var steps = new List<(int Index, TimeSpan Start)>();
        driver.StepStarted += (step, start) =>
        {
            steps.Add((step.Index, start));
            if (step.Index == 1)
            {
                driver.Stop();
            }
        };
        var run = driver.RunAsync(Takes(Ms(400)), CancellationToken.None);

        Tick(Ms(1500));
        var summary = await run;

        Assert.Equal([(0, TimeSpan.Zero), (1, Second)], steps);
        Assert.True(summary.Stopped);
        Assert.False(summary.Aborted);
        Assert.Equal(Second, summary.PlanEnd);
        Assert.Equal(3, summary.Completed);
        Assert.Equal(Ms(1200), summary.End);
    }

    [Fact]
    public async Task RunAsync_StepStartedHandlerThrows_CountsItAndRunsThePlan()
    {
        var driver = Driver([Simulation.Inject(2, Second, Second), Simulation.Inject(2, Second, Second)]);
        driver.StepStarted += (_, _) => throw new InvalidOperationException("observer bug");
        var run = driver.RunAsync(Takes(TimeSpan.Zero), CancellationToken.None);

        Tick(TimeSpan.FromSeconds(2));
        var summary = await run;

        Assert.Equal(2, summary.ObserverFaults);
        Assert.Equal(4, summary.Completed);
        Assert.False(summary.Stopped);
    }

    [Fact]
    public async Task RunAsync_OnThreadPool_RunsEveryInvocation()
    {
        var driver = new LoadDriver(LoadPlan.Create([Simulation.Inject(50, Second, Second)]), new DriverOptions(), _clock);
        int calls = 0;
        var run = driver.RunAsync((_, _) => { Interlocked.Increment(ref calls); return Task.CompletedTask; }, CancellationToken.None);

        Tick(Second);
        var summary = await run;

        Assert.Equal(50, summary.Started);
        Assert.Equal(50, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task RunAsync_SecondCall_Throws()
    {
        var driver = Driver([Simulation.Inject(1, Second, Second)]);
        var run = driver.RunAsync(Takes(TimeSpan.Zero), CancellationToken.None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => driver.RunAsync(Takes(TimeSpan.Zero), CancellationToken.None));
        Tick(Second);
        await run;
    }

    [Fact]
    public void Constructor_ZeroMaxInFlight_ThrowsNamingTheSetting()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LoadDriver(LoadPlan.Create([Simulation.Pause(Second)]), new DriverOptions { MaxInFlight = 0 }, _clock));

        Assert.StartsWith("MaxInFlight must be at least 1 (2147483647 for no cap); got 0.", ex.Message, StringComparison.Ordinal);
    }
}
