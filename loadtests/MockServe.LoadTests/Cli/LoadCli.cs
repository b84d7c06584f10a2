using System.CommandLine;
using System.Globalization;

using Grpc.Net.Client;

using MockServe.Contracts.V1;
using MockServe.LoadTests.Config;
using MockServe.LoadTests.Dashboards;
using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Running;
using MockServe.LoadTests.Scenarios;
using MockServe.LoadTests.Simulations;
using MockServe.LoadTests.Targets;

namespace MockServe.LoadTests.Cli;

/// <summary>The <c>mockserve-load</c> command line: <c>run</c>, <c>scenarios</c> and <c>dashboard</c>.</summary>
public static class LoadCli
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("mockserve-load: NBomber-style load scenarios of long-context, multi-turn streaming clients.")
        {
            ScenariosCommand(),
            RunCommand(),
            DashboardCommand.Create(),
        };
        return root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    private static Command ScenariosCommand()
    {
        var command = new Command("scenarios", "List the built-in scenarios, one a line.");
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            foreach (var scenario in BuiltInScenarios.All)
            {
                output.WriteLine($"{scenario.Name,-20} {scenario.Description}");
            }
        });
        return command;
    }

    private static Command RunCommand()
    {
        var progress = MonitorFlags.ProgressOption();
        var metricsPort = MonitorFlags.MetricsPortOption();
        var metricsHost = MonitorFlags.MetricsHostOption();
        var targetMetrics = new Option<string?>("--target-metrics") { Description = "The server's Prometheus metrics to chart, e.g. http://127.0.0.1:9464/metrics, or none; default: the port the target's GetServerInfo reports." };
        var config = new Option<string?>("--config") { Description = "A scenario file (YAML or JSON): the run's settings and several scenarios run together; flags override it." };
        var boolFlags = new List<(string Key, Option<bool> Yes, Option<bool> No)>
        {
            ("ignore-eos", new Option<bool>("--ignore-eos") { Description = "Ask for exactly the drawn output tokens (ignore_eos; the default)." },
                new Option<bool>("--no-ignore-eos") { Description = "Let the modelled end-of-sequence end outputs early." }),
        };

        // Every other setting is text read by LoadConfigReader, as a scenario file's key of the same name is.
        var textFlags = new (string Key, string Description)[]
        {
            ("scenario", "A built-in scenario (see `mockserve-load scenarios`); replaces a --config file's scenarios."),
            ("target", "A mockserve.v1 server, e.g. http://127.0.0.1:50051; default: one started in this process."),
            ("duration", "How long the load runs, e.g. 60s (the default), 5m."),
            ("users", "Closed model: users held at once (1 to 100000)."),
            ("rate", "Open model: new users a second, Poisson arrivals (above 0, at most 100000)."),
            ("report-dir", "Write report.md, report.csv, requests.jsonl and report.html here."),
            ("slo", "Thresholds, e.g. ttft-p99=5s,itl-p99=100ms,e2e-p99=60s,error-rate=1%; a broken one exits 1."),
            ("seed", "Seed of arrivals and workloads (default 1)."),
            ("time-scale", "Wall seconds per model second of the embedded server (default 1) and of the run's clock: durations, rates, think times and latencies are model time; with --target, default the target's own."),
            ("context", "First prompt's tokens of every scenario: fixed:N, uniform:A-B, normal:M,SD, lognormal:MED,SIGMA, hist:FILE.csv."),
            ("message", "Tokens of each later turn's new message (a length spec)."),
            ("output", "Output tokens a turn, max_tokens (a length spec)."),
            ("turns", "Turns a conversation (a length spec)."),
            ("think-time", "Pause after each turn: none, fixed:2s, exponential:5s, per-token:50ms."),
            ("shared-prefix", "Tokens of a system prompt every user shares."),
            ("context-limit", "The model's context (prompt + output) in tokens."),
            ("context-policy", "When a conversation outgrows --context-limit: slide, truncate or end."),
            ("prompt-format", "tokens (token counts) or text (prompt text of about that many tokens)."),
            ("trace", "A JSONL trace to replay (time, session, prompt_tokens, output_tokens a line); runs trace-replay."),
            ("trace-time-scale", "Multiplies the trace's times: 0.5 replays it twice as fast."),
            ("max-in-flight", "Cap on each scenario's requests in flight."),
            ("overflow", "A request due at the cap: queue (waits, timed) or drop (counted)."),
        }.Select(f => (f.Key, Option: new Option<string?>("--" + f.Key) { Description = f.Description })).ToList();
        var command = new Command("run", "Run scenarios and report what their users lived through.") { config, progress, metricsPort, metricsHost, targetMetrics };
        foreach (var (_, option) in textFlags)
        {
            command.Add(option);
        }

        foreach (var (_, yes, no) in boolFlags)
        {
            command.Add(yes);
            command.Add(no);
        }

        command.SetAction(async (result, ct) =>
        {
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            var problems = new List<string>();
            var given = textFlags.Where(f => result.GetValue(f.Option) is not null).Select(f => KeyValuePair.Create(f.Key, result.GetValue(f.Option)!)).ToList();
            foreach (var (key, yes, no) in boolFlags)
            {
                if (result.GetValue(yes) && result.GetValue(no))
                {
                    problems.Add($"--{key} and --no-{key}: give one of them");
                }
                else if (result.GetValue(yes) || result.GetValue(no))
                {
                    given.Add(KeyValuePair.Create(key, result.GetValue(yes) ? "true" : "false"));
                }
            }

            var flags = LoadConfigReader.ReadFlags(given, problems);
            var file = result.GetValue(config) is { } path ? LoadConfigReader.Read(path, problems) : new LoadConfig();
            if (flags.Scenario is null && flags.Workload.Trace is not null && file.Scenario is null && file.Scenarios.Count == 0)
            {
                flags = flags with { Scenario = BuiltInScenarios.TraceReplayName };
            }

            var run = flags.Over(file);
            // Built against a client no server answers: building sends nothing, and every workload is checked before any load
            // starts. After a bad value only the scenario names are added: the rest would repeat the value's own error.
            using (var probe = GrpcChannel.ForAddress("http://127.0.0.1:9"))
            {
                var built = new List<string>();
                ConfigScenarios.Build(flags, file, new InferenceService.InferenceServiceClient(probe), built);
                problems.AddRange(problems.Count == 0 ? built : built.Where(p => p.StartsWith("--scenario:", StringComparison.Ordinal) || p.Contains(".builtin:", StringComparison.Ordinal)));
            }

            MonitorFlags.Check(result.GetValue(progress)!, result.GetValue(metricsPort), result.GetValue(metricsHost)!, problems);

            if (result.GetValue(targetMetrics) is { } metricsText && !ServerMetricsEndpoint.TryParseFlag(metricsText, out _, out string? metricsError))
            {
                problems.Add($"--target-metrics is \"{metricsText}\": {metricsError}");
            }

            if (problems.Count > 0)
            {
                foreach (string problem in problems)
                {
                    await error.WriteLineAsync($"error: {problem}");
                }

                return 2;
            }

            var embeddedSettings = new Dictionary<string, string?>(ConfigScenarios.EmbeddedSettings(run))
            {
                ["Server:TimeScale"] = (run.TimeScale ?? 1.0).ToString(CultureInfo.InvariantCulture),
            };
            await using var embedded = run.Target is null ? await EmbeddedServer.StartAsync(embeddedSettings, ct) : null;
            var address = run.Target ?? embedded!.Address;
            using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
            });
            var client = new InferenceService.InferenceServiceClient(channel);
            var during = run.Duration ?? ConfigScenarios.DefaultDuration;
            double scale = await TargetClock.ResolveAsync(run.TimeScale, embedded is not null, client, ct);
            if (run.Scenarios.Count == 0 && run.Scenario == BuiltInScenarios.CapacitySweep)
            {
                var settings = new BuiltInSettings(client, during, run.Users, run.Rate, run.Seed ?? 1) { Workload = run.Workload };
                return await SweepAsync(settings, run.Slo is { Thresholds.Count: > 0 } slo ? slo : SloSet.Parse("ttft-p99=5s"), scale, output, ct);
            }

            var scenarios = ConfigScenarios.Build(flags, file, client, problems);
            await output.WriteLineAsync($"{string.Join(", ", scenarios.Select(s => s.Name))} against {address} for {during.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
            await output.WriteLineAsync(TargetClock.Describe(scale));
            var clientMetrics = Prometheus.Metrics.NewCustomRegistry();
            await using var metricsServer = MonitorFlags.StartMetrics(result.GetValue(metricsPort), clientMetrics, error, result.GetValue(metricsHost)!);
            if (metricsServer is not null)
            {
                await output.WriteLineAsync($"client metrics at {metricsServer.Address}");
            }

            var metricsUrl = await ServerMetricsEndpoint.ResolveAsync(result.GetValue(targetMetrics), embedded?.MetricsAddress, address, client, output, ct);
            var outcome = await LoadRunner.RunAsync(scenarios, new RunOptions
            {
                Seed = run.Seed ?? 1,
                TimeScale = scale,
                ReportDirectory = run.ReportDir,
                Output = output,
                Monitors = [.. MonitorFlags.Monitors(result.GetValue(progress)!, output, metricsServer is null ? null : clientMetrics), .. ServerMetricsScraper.For(metricsUrl, output)],
            }, ct);
            foreach (string reportFile in outcome.ReportFiles)
            {
                await output.WriteLineAsync($"wrote {reportFile}");
            }

            return outcome.ExitCode;
        });
        return command;
    }

    /// <summary>Users 1, 2, 3... up to --users (8), each step a run of its own, until the SLO breaks.</summary>
    private static async Task<int> SweepAsync(BuiltInSettings settings, SloSet slo, double scale, TextWriter output, CancellationToken ct)
    {
        int steps = settings.Users ?? 8;
        var sweep = new LoadSweep(SweepKind.Copies, first: 1, increment: 1, steps, settings.Duration / steps);
        await output.WriteLineAsync(TargetClock.Describe(scale));
        await output.WriteLineAsync($"capacity-sweep: 1 to {steps} users, {sweep.Hold.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s each, SLO {slo}");
        var result = await CapacitySweep.RunAsync(
            sweep,
            (_, users, simulation) => BuiltInScenarios.LongContextChat(settings with { Rate = null }, (int)users).WithLoadSimulations(simulation).WithThresholds(slo),
            new RunOptions { Seed = settings.Seed, TimeScale = scale, Output = output },
            ct);
        await output.WriteLineAsync(result.Outcome.LastHeldLoad is { } held
            ? $"capacity: {held} users held the SLO{(result.Outcome.BrokenLoad is { } broke ? $"; {broke} broke it" : $" (every step up to {steps} held)")}"
            : "capacity: even 1 user broke the SLO");
        return result.Outcome.LastHeldLoad is null ? 1 : 0;
    }
}
