using System.Text.Json;

using Grpc.Net.Client;

using MockServe.Contracts.V1;
using MockServe.LoadTests.Llm;
using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Reports;
using MockServe.LoadTests.Running;
using MockServe.LoadTests.Scenarios;
using MockServe.LoadTests.Simulations;
using MockServe.LoadTests.Targets;
using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Tests.Running;

[Collection(RealServers.Name)]
public class LoadRunnerTests
{
    private const double TimeScale = 0.01;

    [Fact]
    public async Task RunAsync_ChatUsersAgainstTheEmbeddedServer_TimesAgreeWithTheServerAndLaterTurnsAreHot()
    {
        await using var server = await EmbeddedServer.StartAsync(new Dictionary<string, string?> { ["Server:TimeScale"] = "0.01" });
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new InferenceService.InferenceServiceClient(channel);
        await ClientWarmup.WarmAsync(client);
        var workload = WorkloadPlan.Create(new WorkloadOptions { Context = "fixed:20000", Message = "fixed:100", Output = "fixed:20", Turns = "fixed:3" }, new Random(1));
        using var reports = new TempDirectory();
        var chat = ChatUsers.Create("chat", client, workload).WithLoadSimulations(Simulation.IterationsForConstant(2, 6));

        var outcome = await LoadRunner.RunAsync([chat], new RunOptions { ReportDirectory = reports.Path });

        var samples = outcome.Report.Samples;
        Assert.Equal(6, samples.Count);
        Assert.All(samples, s => Assert.True(s.Ok, s.Status));
        // Two users, three turns each: the first turn prefills 20,000 tokens, the next two only what is new.
        Assert.Equal(2, samples.Count(s => s.Turn == 0 && s.CacheState == TurnCacheState.New));
        Assert.Equal(4, samples.Count(s => s.Turn > 0 && s.CacheState == TurnCacheState.Hot));
        foreach (var s in samples)
        {
            // The client's TTFT (from its send) is the server's, scaled to wall time, plus the trip (up to 0.57 s seen on 2 busy cores); never less.
            double server_ = s.Server!.Value.TimeToFirstToken.TotalSeconds * TimeScale;
            double client_ = s.TtftFromActual!.Value.TotalSeconds;
            Assert.InRange(client_, server_ * 0.95, server_ + 1.0);
            Assert.Equal(20, s.OutputTokens);
            Assert.NotNull(s.Itl);
        }

        Assert.True(File.Exists(Path.Combine(reports.Path, ReportWriter.MarkdownFile)));
        Assert.True(File.Exists(Path.Combine(reports.Path, ReportWriter.HtmlFile)));
        Assert.Contains("scenario,metric", File.ReadLines(Path.Combine(reports.Path, ReportWriter.CsvFile)).First(), StringComparison.Ordinal);
        var lines = File.ReadAllLines(Path.Combine(reports.Path, ReportWriter.RequestsFile));
        Assert.Equal(6, lines.Length);
        Assert.All(lines, l => JsonDocument.Parse(l).Dispose());
        Assert.Equal(0, outcome.ExitCode);
    }

    [Fact]
    public async Task RunAsync_AtTheServersTimeScale_ClientTimesAreModelTimeAndAgreeWithTheServers()
    {
        await using var server = await EmbeddedServer.StartAsync(new Dictionary<string, string?> { ["Server:TimeScale"] = "0.01" });
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new InferenceService.InferenceServiceClient(channel);
        await ClientWarmup.WarmAsync(client);
        var workload = WorkloadPlan.Create(new WorkloadOptions { Context = "fixed:20000", Message = "fixed:100", Output = "fixed:100", Turns = "fixed:2" }, new Random(1));
        var chat = ChatUsers.Create("chat", client, workload).WithLoadSimulations(Simulation.IterationsForConstant(1, 2));

        var outcome = await LoadRunner.RunAsync([chat], new RunOptions { TimeScale = TimeScale });

        Assert.Equal(2, outcome.Report.Samples.Count);
        foreach (var s in outcome.Report.Samples)
        {
            Assert.True(s.Ok, s.Status);
            // Both in model time now: the client's TTFT is the server's plus the trip, a wall millisecond of which reads
            // as 100 model ms at 0.01 (up to 0.57 s of wall seen on 2 busy cores: 57 model seconds).
            double server_ = s.Server!.Value.TimeToFirstToken.TotalSeconds;
            double client_ = s.TtftFromActual!.Value.TotalSeconds;
            Assert.InRange(client_, server_ * 0.95, server_ + 100);
            // ITL from the client's E2E and TTFT against the server's decode over 99 gaps (about 40 model ms a token, 4 s in
            // all): a few wall milliseconds of jitter at either end move it by tens of percent at most, a wrong clock by 100 times.
            double serverItl = s.Server.Value.Decode.TotalSeconds / 99;
            Assert.InRange(s.Itl!.Value.TotalSeconds, serverItl * 0.5, serverItl * 2);
        }

        // 20,000 tokens of Yi-34B at 312 TFLOP/s take seconds of model time to prefill, far more than the wall time.
        Assert.True(outcome.Report.Samples[0].TtftFromActual > TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task RunAsync_TurnAfterAThink_IntendedWhenTheThinkEndsAndNeverStartedBefore()
    {
        await using var server = await EmbeddedServer.StartAsync(new Dictionary<string, string?> { ["Server:TimeScale"] = "0.01" });
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new InferenceService.InferenceServiceClient(channel);
        await ClientWarmup.WarmAsync(client);
        var workload = WorkloadPlan.Create(
            new WorkloadOptions { Context = "fixed:2000", Message = "fixed:100", Output = "fixed:5", Turns = "fixed:3", ThinkTime = "fixed:20s" }, new Random(1));
        var chat = ChatUsers.Create("chat", client, workload).WithLoadSimulations(Simulation.IterationsForConstant(1, 3));

        var outcome = await LoadRunner.RunAsync([chat], new RunOptions { TimeScale = TimeScale });

        var turns = outcome.Report.Samples.OrderBy(s => s.Turn).ToList();
        Assert.Equal([0, 1, 2], turns.Select(t => t.Turn));
        for (int i = 1; i < turns.Count; i++)
        {
            // The think of 20 model seconds (0.2 s of wall time) starts as the previous turn ends (give or take 2 s of wall
            // time on busy cores); the turn is due when it ends, and a late wake-up shows as lateness, never as an earlier
            // intended start.
            var sinceLast = turns[i].IntendedStart - turns[i - 1].End;
            Assert.InRange(sinceLast, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(20) + TimeSpan.FromSeconds(200));
            Assert.True(turns[i].ActualStart >= turns[i].IntendedStart, $"turn {i} started before it was due");
        }
    }

    [Fact]
    public async Task RunAsync_TooStrictSlo_ExitCodeOneNamingTheThreshold()
    {
        await using var server = await EmbeddedServer.StartAsync(new Dictionary<string, string?> { ["Server:TimeScale"] = "0.01" });
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new InferenceService.InferenceServiceClient(channel);
        await ClientWarmup.WarmAsync(client);
        var workload = WorkloadPlan.Create(new WorkloadOptions { Context = "fixed:20000", Output = "fixed:5" }, new Random(1));
        var chat = ChatUsers.Create("chat", client, workload)
            .WithLoadSimulations(Simulation.IterationsForConstant(1, 2))
            .WithThresholds(SloSet.Parse("ttft-p99=1ms"));

        var outcome = await LoadRunner.RunAsync([chat], new RunOptions());

        Assert.Equal(1, outcome.ExitCode);
        var broken = Assert.Single(outcome.Report.Verdicts, v => !v.Passed);
        Assert.Contains("ttft-p99", broken.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ScenarioWrittenInCode_CountsOkAndFailAndCustomLatency()
    {
        // A scenario against any service: a step that returns ok or fail, as a user would write one in C#.
        var scenario = Scenario.Create("custom", context => Task.FromResult(context.Invocation.Number % 4 == 3
                ? Response.Fail("503")
                : Response.Ok(sizeBytes: 100, latency: TimeSpan.FromMilliseconds(5))))
            .WithLoadSimulations(Simulation.IterationsForConstant(2, 20));

        var outcome = await LoadRunner.RunAsync([scenario], new RunOptions());

        var stats = Assert.Single(outcome.Report.Statistics.Scenarios);
        Assert.Equal(20, stats.Requests);
        Assert.Equal(15, stats.Succeeded);
        Assert.Equal(5, stats.Failed);
        Assert.Equal(15 * 100, stats.SizeBytes);
        Assert.Equal(5, stats.ErrorsByStatus["503"]);
    }

    [Fact]
    public async Task RunAsync_StepThrows_FailedByExceptionTypeWithItsMessage()
    {
        var scenario = Scenario.Create("throws", context => context.Invocation.Number == 1
                ? throw new InvalidOperationException("the service said no")
                : Task.FromResult(Response.Ok()))
            .WithLoadSimulations(Simulation.IterationsForConstant(1, 3));

        var outcome = await LoadRunner.RunAsync([scenario], new RunOptions());

        var stats = Assert.Single(outcome.Report.Statistics.Scenarios);
        Assert.Equal(2, stats.Succeeded);
        Assert.Equal(1, stats.ErrorsByStatus["InvalidOperationException"]);
        Assert.Equal("the service said no", stats.FirstErrors["InvalidOperationException"]);
        Assert.Equal("the service said no", Assert.Single(outcome.Report.Samples, s => !s.Ok).Error);
    }
}
