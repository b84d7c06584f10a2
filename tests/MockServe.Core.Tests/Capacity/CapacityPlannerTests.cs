using MockServe.Core.Capacity;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Core.Simulation;

namespace MockServe.Core.Tests.Capacity;

public class CapacityPlannerTests
{
    private static readonly WorkloadOptions Small = new()
    {
        ContextTokens = 8_000,
        Turns = 3,
        TurnTokens = 100,
        ThinkTimeSeconds = 2,
        OutputTokens = 64,
        DurationSeconds = 120,
        WarmupSeconds = 12,
    };

    [Fact]
    public void Run_EngineSimulator_CountsGoodTurnsAmongMeasuredOnes()
    {
        var slos = SloSet.Parse("ttft-p99=1s");
        var simulator = new EngineCapacitySimulator(Presets.DefaultDeployment, 1, null, new EngineOptions(), Small, CapacityMode.Users, slos);

        var run = simulator.Run(4, seed: 1);

        Assert.True(run.MeasuredTurns > 10, $"{run.MeasuredTurns} turns");
        Assert.InRange(run.GoodTurns, 1, run.MeasuredTurns - 1);
        Assert.Equal(108, run.MeasuredSeconds);
        // Yi-34B on one A100 holds 60,912 tokens of KV: 7 contexts of 8,000. HBM is as full as what is resident plus
        // the one more context the next user would bring, 1/7 of the blocks.
        Assert.Equal(7, run.MaxConcurrentUsers);
        Assert.InRange(run.HbmKvUsed, 0.1, 0.9);
        Assert.Equal(run.HbmKvUsed + (1.0 / 7), run.ConcurrencyShare, 12);
    }

    [Fact]
    public void Run_EngineSimulator_SameSeedSameRun()
    {
        var slos = SloSet.Parse("ttft-p99=1s");
        var simulator = new EngineCapacitySimulator(Presets.DefaultDeployment, 1, null, new EngineOptions(), Small, CapacityMode.Users, slos);

        Assert.Equal(simulator.Run(4, seed: 3), simulator.Run(4, seed: 3));
    }

    [Fact]
    public void Search_ContextBeyondHbm_DoesNotFitWithTheRunnersReason()
    {
        var plan = Plan(Small);

        var outcome = CapacityPlanner.Search(plan, new CapacityCase(Presets.DefaultDeployment, 100_000));

        Assert.Null(outcome.Result);
        Assert.Contains("--context: 100000 tokens plus 64 output tokens do not fit", outcome.DoesNotFit, StringComparison.Ordinal);
        Assert.DoesNotContain("Parameter", outcome.DoesNotFit, StringComparison.Ordinal);
    }

    [Fact]
    public void GpusFor_NineUsersOnTwoGpus_TakesWholeDeployments()
    {
        var outcome = Outcome(answer: 9, tensorParallel: 2);

        // ceil(100 / 9) = 12 deployments of 2 GPUs.
        Assert.Equal(24, outcome.GpusFor(100));
        // 3.2 per GPU-hour x 2 GPUs / 9 users = 0.7111 per user-hour.
        Assert.Equal(6.4 / 9, outcome.CostPerLoadHour(3.2)!.Value, 12);
    }

    [Fact]
    public void GpusFor_NoUserServed_IsNull()
    {
        var outcome = Outcome(answer: 0, tensorParallel: 1);

        Assert.Null(outcome.GpusFor(100));
        Assert.Null(outcome.CostPerLoadHour(1.8));
    }

    [Fact]
    public async Task RunAsync_OneOrTwoAtOnce_SameOutcomes()
    {
        var cases = new[] { 4_000L, 8_000, 16_000 }.Select(c => new CapacityCase(Presets.DefaultDeployment, c)).ToList();
        var plan = Plan(Small) with { Cases = cases };

        var serial = await CapacityPlanner.RunAsync(plan with { Parallelism = 1 });
        var parallel = await CapacityPlanner.RunAsync(plan with { Parallelism = 2 });

        Assert.Equal(serial.Select(o => o.Result!.Answer), parallel.Select(o => o.Result!.Answer));
        Assert.Equal(serial.Select(o => o.Result!.Points.Count), parallel.Select(o => o.Result!.Points.Count));
        // Shorter contexts serve more users.
        Assert.True(serial[0].Result!.Answer > serial[2].Result!.Answer, string.Join(", ", serial.Select(o => o.Result!.Answer)));
    }

    private static CapacityPlan Plan(WorkloadOptions workload) => new()
    {
        Cases = [],
        Workload = workload,
        Search = new CapacitySearchOptions { Slos = SloSet.Parse("ttft-p50=2s") },
    };

    private static CapacityOutcome Outcome(double answer, int tensorParallel)
    {
        var deployment = Presets.DefaultDeployment with { TensorParallel = tensorParallel };
        var none = new LatencySummary(0, 0, 0, 0, 0, 0);
        var point = new CapacityPoint(Math.Max(1, answer), [new SeedRun(1, new CapacityRun { Ttft = none, Itl = none, E2e = none }, answer > 0 ? null : "x")]);
        return new CapacityOutcome(new CapacityCase(deployment, 8_000), 1, 7, new CapacitySearchResult(answer, point, null, false, [point]), null);
    }
}
