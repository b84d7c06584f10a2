using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Core.Simulation;

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
}
