using System.CommandLine;
using System.Globalization;

using Grpc.Net.Client;

using MockServe.Contracts.V1;
using MockServe.LoadTests.Live;
using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Running;
using MockServe.LoadTests.Scenarios;
using MockServe.LoadTests.Simulations;
using MockServe.LoadTests.Targets;
using MockServe.Server.Configuration;

namespace MockServe.LoadTests.Cli;

/// <summary>The <c>mockserve-load</c> command line: <c>run</c> and <c>scenarios</c>.</summary>
public static class LoadCli
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("mockserve-load: NBomber-style load scenarios of long-context, multi-turn streaming clients.")
        {
            ScenariosCommand(),
            RunCommand(),
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
        var scenario = new Option<string>("--scenario") { Description = "A built-in scenario (see `mockserve-load scenarios`).", Required = true };
        // A string, not Option<Uri>: System.CommandLine 2.0.0 has no Uri converter and throws on any value
        // (dotnet/command-line-api#2574), so the address is checked here with the other flags.
        var target = new Option<string?>("--target") { Description = "A mockserve.v1 server, e.g. http://127.0.0.1:50051; default: one started in this process." };
        var duration = new Option<string>("--duration") { Description = "How long the load runs, e.g. 60s, 5m.", DefaultValueFactory = _ => "60s" };
        var users = new Option<int?>("--users") { Description = "Closed model: users held at once (1 to 100000)." };
        var rate = new Option<double?>("--rate") { Description = "Open model: new users a second, Poisson arrivals (above 0, at most 100000)." };
        var reportDir = new Option<string?>("--report-dir") { Description = "Write report.md, report.csv, requests.jsonl and report.html here." };
        var slo = new Option<string?>("--slo") { Description = "Thresholds, e.g. ttft-p99=5s,itl-p99=100ms,e2e-p99=60s,error-rate=1%; a broken one exits 1." };
        var seed = new Option<int>("--seed") { Description = "Seed of arrivals and workloads.", DefaultValueFactory = _ => 1 };
        var timeScale = new Option<double>("--time-scale") { Description = "The embedded server's wall seconds per model second.", DefaultValueFactory = _ => 1.0 };
        var progress = MonitorFlags.ProgressOption();
        var metricsPort = MonitorFlags.MetricsPortOption();
        var targetMetrics = new Option<string?>("--target-metrics") { Description = "The server's Prometheus metrics to chart, e.g. http://127.0.0.1:9464/metrics, or none; default: the port the target's GetServerInfo reports." };
        var command = new Command("run", "Run a scenario and report what its users lived through.")
        {
            scenario, target, duration, users, rate, reportDir, slo, seed, timeScale, progress, metricsPort, targetMetrics,
        };
        command.SetAction(async (result, ct) =>
        {
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            string name = result.GetValue(scenario)!;
            var builtIn = BuiltInScenarios.Find(name);
            var problems = new List<string>();
            if (builtIn is null)
            {
                problems.Add($"--scenario: unknown scenario '{name}', expected one of {string.Join(", ", BuiltInScenarios.All.Select(s => s.Name))}");
            }

            var during = ParseDuration(result.GetValue(duration)!, problems);
            var address = result.GetValue(target) is { } targetText ? ParseTarget(targetText, problems) : null;
            if (result.GetValue(users) is { } u && u is < 1 or > 100_000)
            {
                problems.Add($"--users: must be 1 to 100000, got {u}");
            }

            if (result.GetValue(rate) is { } r && !(r > 0 && r <= 100_000))
            {
                problems.Add($"--rate: must be above 0 and at most 100000, got {r.ToString(CultureInfo.InvariantCulture)}");
            }

            SloSet thresholds = SloSet.Empty;
            if (result.GetValue(slo) is { } text && !SloSet.TryParse(text, out thresholds, out string? sloError))
            {
                problems.Add($"--slo: {sloError}");
            }

            MonitorFlags.Check(result.GetValue(progress)!, result.GetValue(metricsPort), problems);

            if (result.GetValue(targetMetrics) is { } metricsText && !ServerMetricsEndpoint.TryParseFlag(metricsText, out _, out string? metricsError))
            {
                problems.Add($"--target-metrics: {metricsError}");
            }

            if (problems.Count > 0)
            {
                foreach (string problem in problems)
                {
                    await error.WriteLineAsync($"error: {problem}");
                }

                return 2;
            }

            await using var embedded = address is null
                ? await EmbeddedServer.StartAsync(new Dictionary<string, string?> { ["Server:TimeScale"] = result.GetValue(timeScale).ToString(CultureInfo.InvariantCulture) }, ct)
                : null;
            address ??= embedded!.Address;
            using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
            });
            var settings = new BuiltInSettings(new InferenceService.InferenceServiceClient(channel), during, result.GetValue(users), result.GetValue(rate), result.GetValue(seed));
            if (builtIn!.Name == BuiltInScenarios.CapacitySweep)
            {
                return await SweepAsync(settings, thresholds.Thresholds.Count > 0 ? thresholds : SloSet.Parse("ttft-p99=5s"), output, ct);
            }

            var scenarios = builtIn.Build(settings).Select(s => s.WithThresholds(new SloSet(s.Thresholds.Thresholds.Concat(thresholds.Thresholds)))).ToList();
            await output.WriteLineAsync($"{builtIn.Name} against {address} for {during.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
            var clientMetrics = Prometheus.Metrics.NewCustomRegistry();
            await using var metricsServer = MonitorFlags.StartMetrics(result.GetValue(metricsPort), clientMetrics, error);
            if (metricsServer is not null)
            {
                await output.WriteLineAsync($"client metrics at {metricsServer.Address}");
            }

            var metricsUrl = await ServerMetricsEndpoint.ResolveAsync(result.GetValue(targetMetrics), embedded?.MetricsAddress, address, settings.Client, output, ct);
            var outcome = await LoadRunner.RunAsync(scenarios, new RunOptions
            {
                Seed = result.GetValue(seed),
                ReportDirectory = result.GetValue(reportDir),
                Output = output,
                Monitors = [.. MonitorFlags.Monitors(result.GetValue(progress)!, output, metricsServer is null ? null : clientMetrics), .. ServerMetricsScraper.For(metricsUrl, output)],
            }, ct);
            foreach (string file in outcome.ReportFiles)
            {
                await output.WriteLineAsync($"wrote {file}");
            }

            return outcome.ExitCode;
        });
        return command;
    }

    /// <summary>Users 1, 2, 3... up to --users (8), each step a run of its own, until the SLO breaks.</summary>
    private static async Task<int> SweepAsync(BuiltInSettings settings, SloSet slo, TextWriter output, CancellationToken ct)
    {
        int steps = settings.Users ?? 8;
        var sweep = new LoadSweep(SweepKind.Copies, first: 1, increment: 1, steps, settings.Duration / steps);
        await output.WriteLineAsync($"capacity-sweep: 1 to {steps} users, {sweep.Hold.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s each, SLO {slo}");
        var result = await CapacitySweep.RunAsync(
            sweep,
            (_, users, simulation) => BuiltInScenarios.LongContextChat(settings with { Rate = null }, (int)users).WithLoadSimulations(simulation).WithThresholds(slo),
            new RunOptions { Seed = settings.Seed, Output = output },
            ct);
        await output.WriteLineAsync(result.Outcome.LastHeldLoad is { } held
            ? $"capacity: {held} users held the SLO{(result.Outcome.BrokenLoad is { } broke ? $"; {broke} broke it" : $" (every step up to {steps} held)")}"
            : "capacity: even 1 user broke the SLO");
        return result.Outcome.LastHeldLoad is null ? 1 : 0;
    }

    private static Uri? ParseTarget(string text, List<string> problems)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return uri;
        }

        problems.Add($"--target: expected an http or https address such as http://127.0.0.1:50051, got '{text}'");
        return null;
    }

    private static TimeSpan ParseDuration(string text, List<string> problems)
    {
        // The same duration syntax as every mockserve setting (250ms, 5s, 2m, 1h).
        if (SettingText.TryParseDuration(text, out double seconds) && seconds > 0 && seconds <= 7 * 86_400)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        problems.Add($"--duration: expected a duration above 0 and at most 7 days, such as 30s, 5m or 1h, got '{text}'");
        return TimeSpan.Zero;
    }
}
