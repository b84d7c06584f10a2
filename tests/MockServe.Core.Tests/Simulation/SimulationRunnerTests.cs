using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Core.Simulation;
using MockServe.Core.Workload;

namespace MockServe.Core.Tests.Simulation;

public class SimulationRunnerTests
{
    private static readonly WorkloadOptions Small = new()
    {
        Users = 6,
        ContextTokens = 20_000,
        Turns = 3,
        TurnTokens = 100,
        ThinkTimeSeconds = 2,
        OutputTokens = 64,
        DurationSeconds = 120,
        Seed = 7,
    };

    private static (SimulationReport Report, string Trace) Run(WorkloadOptions workload, EngineOptions? options = null)
    {
        var trace = new StringWriter();
        var runner = new SimulationRunner(Presets.DefaultDeployment, options ?? new EngineOptions(), workload, new EventTraceWriter(trace));
        return (runner.Run(), trace.ToString());
    }

    [Fact]
    public void Run_SameSeed_GivesTheSameTraceByteForByte()
    {
        var first = Run(Small);
        var second = Run(Small);

        Assert.True(first.Trace.Length > 10_000);
        Assert.Equal(first.Trace, second.Trace);
    }

    [Fact]
    public void Run_WithTurnMeasured_CallsItOncePerMeasuredTurnAndKeepsTheTrace()
    {
        var workload = Small with { WarmupSeconds = 20 };
        var (plainReport, plainTrace) = Run(workload);
        var trace = new StringWriter();
        var turns = new List<RequestResult>();
        var report = new SimulationRunner(Presets.DefaultDeployment, new EngineOptions(), workload, new EventTraceWriter(trace))
        {
            TurnMeasured = turns.Add,
        }.Run();

        Assert.Equal(plainTrace, trace.ToString());
        Assert.Equal(plainReport.RequestsCompleted, report.RequestsCompleted);
        Assert.Equal(report.RequestsCompleted, turns.Count);
        Assert.True(turns.Count > 6, $"{turns.Count} turns");
        Assert.All(turns, t => Assert.True(t.ArrivalTime >= 20, $"{t.ArrivalTime}"));
    }

    [Fact]
    public void Run_OtherSeed_GivesAnotherTrace()
    {
        var first = Run(Small);
        var other = Run(Small with { Seed = 8 });

        Assert.NotEqual(first.Trace, other.Trace);
    }

    [Fact]
    public void Run_UsersBeyondHbm_SwapAndReuseSessions()
    {
        // 20K tokens = 4.9 GB of KV: three users fit in the 14.97 GB left on the A100, six do not.
        var (report, _) = Run(Small);

        Assert.Equal(3, report.MaxConcurrentUsers);
        Assert.True(report.RequestsCompleted > 6);
        Assert.True(report.ContextSwitches > 0);
        Assert.True(report.SwapBytes > 0);
        Assert.True(report.CacheStates["hot"] + report.CacheStates["host"] > 0);
        Assert.True(report.TtftSeconds.P99 >= report.TtftSeconds.P50);
        Assert.True(report.TtftSeconds.Max >= report.TtftSeconds.P99);
        Assert.Equal(report.TokensGenerated, report.DecodeTokensPerSecond * 120, 6);
    }

    [Fact]
    public void Run_FinishedTurns_EachProducedItsOutputTokens()
    {
        var (report, trace) = Run(Small);

        long finished = trace.Split('\n').Count(l => l.Contains("\tFinished\t", StringComparison.Ordinal) && l.EndsWith("\tLength", StringComparison.Ordinal));
        Assert.Equal(report.RequestsCompleted, finished);
        // Every completed turn produced 64 tokens; turns in flight at the end produced some more.
        Assert.True(report.TokensGenerated >= report.RequestsCompleted * 64);
        Assert.True(report.TokensGenerated <= (report.RequestsCompleted + report.RequestsInFlight) * 64);
    }

    [Fact]
    public void Run_SwappingOff_DropsAndRecomputesInstead()
    {
        var (report, _) = Run(Small, new EngineOptions { SwapEnabled = false, Preemption = PreemptionPolicies.Recompute });

        Assert.Equal(0, report.ContextSwitches);
        Assert.True(report.SessionsDropped > 0);
        Assert.True(report.RecomputedTokens > 0);
        Assert.True(report.CacheStates["miss"] > 0);
    }

    [Fact]
    public void Run_UsersBeyondMaxSessions_EvictsIdleSessionsAndRetriesRefusedTurns()
    {
        // Six users, each holding one session at a time, against room for four.
        var (report, trace) = Run(Small, new EngineOptions { MaxSessions = 4 });

        long evictions = trace.Split('\n').Count(l => l.Contains("\tSessionEvicted\t", StringComparison.Ordinal) && l.EndsWith("\tlimit", StringComparison.Ordinal));
        Assert.True(report.SessionsEvicted > 0);
        Assert.Equal(report.SessionsEvicted, evictions);
        Assert.True(report.RequestsCompleted > 6);
    }

    [Fact]
    public void Run_UsersWithinMaxSessions_EvictsNone()
    {
        var (report, trace) = Run(Small);

        Assert.Equal(0, report.SessionsEvicted);
        Assert.DoesNotContain("\tSessionEvicted\t", trace, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ContextBeyondKvCapacity_IsRefusedNamingTheFlag()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new SimulationRunner(Presets.DefaultDeployment, new EngineOptions(), Small with { ContextTokens = 100_000 }));

        Assert.Contains("--context", ex.Message);
    }

    [Fact]
    public void Run_ContextDistribution_CutsDrawsLongerThanFitToTheRoomLeft()
    {
        // yi-34b on one A100: 13.9 GiB of KV room / 240 KiB a token = 60,912 tokens; less the 64 output tokens the
        // longest prompt is 60,848. uniform:20k-200k draws above that three times in four ((200,000 - 60,848) / 180,001).
        var workload = Small with { Users = 3, ContextLengths = LengthSpec.Parse("--context", "uniform:20k-200k") };
        var firstTurns = new List<long>();
        var runner = new SimulationRunner(Presets.DefaultDeployment, new EngineOptions(), workload)
        {
            TurnMeasured = r => { if (r.Request.RequestId.EndsWith("-t0", StringComparison.Ordinal)) { firstTurns.Add(r.PromptTokens); } },
        };
        runner.Run();

        Assert.Equal(60_912, runner.Engine.Limits.HbmCapacityTokens);
        Assert.Contains(60_848, firstTurns);
        Assert.All(firstTurns, p => Assert.InRange(p, 20_000, 60_848));
        Assert.True(firstTurns.Distinct().Count() > 1, string.Join(",", firstTurns));
    }

    [Fact]
    public void Run_OutputDistribution_EachTurnGeneratesItsOwnDraw()
    {
        var workload = Small with { OutputLengths = LengthSpec.Parse("--output-tokens", "uniform:10-20") };
        var turns = new List<RequestResult>();
        var runner = new SimulationRunner(Presets.DefaultDeployment, new EngineOptions(), workload) { TurnMeasured = turns.Add };
        runner.Run();

        Assert.NotEmpty(turns);
        Assert.All(turns, t => Assert.InRange(t.Request.MaxTokens, 10, 20));
        Assert.All(turns, t => Assert.Equal(t.Request.MaxTokens, t.CompletionTokens));
        Assert.True(turns.Select(t => t.Request.MaxTokens).Distinct().Count() > 1);
    }

    [Fact]
    public void Run_SameSeedWithDistributions_GivesTheSameTrace()
    {
        var workload = Small with
        {
            ContextLengths = LengthSpec.Parse("--context", "lognormal:8000,0.8"),
            OutputLengths = LengthSpec.Parse("--output-tokens", "normal:64,16"),
        };

        Assert.Equal(Run(workload).Trace, Run(workload).Trace);
    }

    [Fact]
    public void Run_FixedSpecs_GiveTheTraceOfPlainCounts()
    {
        // A fixed spec draws nothing from the seeded source, so it runs exactly as --context 20000 --output-tokens 64.
        var workload = Small with
        {
            ContextTokens = 1,
            OutputTokens = 1,
            ContextLengths = LengthSpec.Parse("--context", "fixed:20000"),
            OutputLengths = LengthSpec.Parse("--output-tokens", "fixed:64"),
        };

        Assert.Equal(Run(Small).Trace, Run(workload).Trace);
    }

    [Fact]
    public void Constructor_ContextDistributionWhoseShortestDoesNotFit_IsRefusedNamingItsMin()
    {
        // The shortest draw, 100,000 tokens, is beyond the 60,912 tokens of KV room: no conversation could start.
        var ex = Assert.Throws<ArgumentException>(() => new SimulationRunner(
            Presets.DefaultDeployment, new EngineOptions(), Small with { ContextLengths = LengthSpec.Parse("--context", "uniform:100k-200k") }));

        Assert.Contains("--context: 100000 (the least of uniform:100000-200000) tokens plus 64 output tokens do not fit", ex.Message);
    }
}
