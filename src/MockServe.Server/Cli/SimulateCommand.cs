using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

using MockServe.Core.Cluster;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Core.Simulation;
using MockServe.Server.Configuration;

using Spectre.Console;

namespace MockServe.Server.Cli;

/// <summary><c>mockserve simulate</c>: a synthetic multi-turn workload on the virtual clock.</summary>
internal static class SimulateCommand
{
    /// <summary>Simulate runs the engine on a deployment: the profile and engine settings.</summary>
    public static IReadOnlyList<SettingsSection> Sections { get; } = [Settings.Profile, Settings.Engine];

    public static Command Create(SettingSources sources)
    {
        var defaults = new WorkloadOptions();
        var users = new Option<int>("--users") { Description = "Concurrent users, each holding one conversation at a time (required unless --rate).", HelpName = "N" };
        var context = LengthOption.Create("--context", "Prompt tokens of a conversation's first turn, drawn per conversation from a spec.", defaults.ContextTokens);
        var turns = new Option<int>("--turns") { Description = "Turns per conversation; then the session closes and a new one starts.", HelpName = "N", DefaultValueFactory = _ => defaults.Turns };
        var turnTokens = TokenCountOption.Create("--turn-tokens", "New prompt tokens of each later turn.", defaults.TurnTokens, "N");
        var thinkTime = DurationOption.Create("--think-time", "Mean pause between a turn's last token and the next turn (uniform in 0.5x..1.5x).", defaults.ThinkTimeSeconds);
        var outputTokens = LengthOption.Create("--output-tokens", "Tokens generated per turn, drawn per turn from a spec.", defaults.OutputTokens, "N|SPEC");
        var duration = DurationOption.Create("--duration", "Model time to simulate.", defaults.DurationSeconds);
        var seed = new Option<int>("--seed") { Description = "Seed of the arrival and think-time draws; a seed reproduces a run exactly.", HelpName = "S", DefaultValueFactory = _ => defaults.Seed };
        var rate = new Option<double>("--rate")
        {
            Description = "Open loop: new conversations arrive at this rate per model second (Poisson) and leave after their turns; --users is then unused.",
            HelpName = "PER_SECOND",
        };
        var warmup = DurationOption.Create("--warmup", "Model time at the start left out of the results.", 0);
        var replicas = new Option<int>("--replicas") { Description = "Replicas of the deployment (each its own GPU group) behind one router.", HelpName = "N", DefaultValueFactory = _ => 1 };
        var router = new Option<string>("--router")
        {
            Description = $"How turns are placed on replicas: {string.Join(", ", Routers.Names)}.",
            HelpName = "NAME",
            DefaultValueFactory = _ => "round-robin",
        };
        router.Validators.Add(result =>
        {
            string? name = result.GetValueOrDefault<string>();
            if (Routers.Create(name ?? "") is null)
            {
                result.AddError($"--router: unknown router '{name}', expected one of {string.Join(", ", Routers.Names)}");
            }
        });
        var (conversation, sharedPrefix) = CreateConversationOptions(defaults);
        var trace = new Option<FileInfo?>("--trace") { Description = "Write every engine event and step to this file, one line each.", HelpName = "FILE" };
        var format = OutputFormats.CreateOption();

        var command = new Command(
            "simulate",
            "Run many multi-turn users against the engine on a virtual clock: an hour of GPU time in seconds.");
        SettingsFlags.AddTo(command, Sections);
        foreach (Option option in new Option[] { users, context, turns, turnTokens, thinkTime, outputTokens, conversation, sharedPrefix, duration, warmup, rate, seed, replicas, router, trace, format })
        {
            command.Options.Add(option);
        }

        command.SetAction(parseResult =>
        {
            Deployment built;
            EngineOptions engineOptions;
            using (var settings = SettingsFlags.Load(parseResult, sources, Sections))
            {
                built = settings.Get<ProfileOptions>().ToDeployment();
                engineOptions = settings.Get<EngineOptions>();
            }

            var contextValue = parseResult.GetValue(context)!;
            var outputValue = parseResult.GetValue(outputTokens)!;
            var workload = new WorkloadOptions
            {
                Users = parseResult.GetResult(users) is null ? defaults.Users : parseResult.GetValue(users),
                ContextTokens = contextValue.Lengths is null ? contextValue.Tokens : defaults.ContextTokens,
                ContextLengths = contextValue.Lengths,
                Turns = parseResult.GetValue(turns),
                TurnTokens = parseResult.GetValue(turnTokens),
                ThinkTimeSeconds = parseResult.GetValue(thinkTime),
                OutputTokens = outputValue.Lengths is null ? outputValue.Tokens : defaults.OutputTokens,
                OutputLengths = outputValue.Lengths,
                DurationSeconds = parseResult.GetValue(duration),
                Seed = parseResult.GetValue(seed),
                ArrivalRate = parseResult.GetValue(rate),
                WarmupSeconds = parseResult.GetValue(warmup),
                Conversation = WorkloadOptions.ParseMode(parseResult.GetValue(conversation)) ?? defaults.Conversation,
                SharedPrefixTokens = parseResult.GetValue(sharedPrefix),
            };
            var errors = workload.Validate().ToList();
            if (parseResult.GetResult(users) is null && workload.ArrivalRate == 0)
            {
                errors.Insert(0, "--users: required, unless --rate sets an open loop of arriving conversations");
            }

            int replicaCount = parseResult.GetValue(replicas);
            if (replicaCount is < 1 or > 1024)
            {
                errors.Add($"--replicas: must be between 1 and 1024, got {replicaCount}");
            }

            if (errors.Count > 0)
            {
                return CliApp.Fail(parseResult, string.Join(Environment.NewLine, errors));
            }

            using var traceWriter = parseResult.GetValue(trace) is { } file ? new StreamWriter(file.FullName) : null;
            SimulationRunner runner;
            try
            {
                runner = new SimulationRunner(
                    [.. Enumerable.Repeat(built, replicaCount)], engineOptions, workload, Routers.Create(parseResult.GetValue(router)!), traceWriter is null ? null : new EventTraceWriter(traceWriter));
            }
            catch (ArgumentException ex)
            {
                return CliApp.Fail(parseResult, ex.Message.Split(" (Parameter")[0]);
            }

            var outputFormat = parseResult.GetValue(format);
            var (report, run) = Measure(runner, CliApp.Error(parseResult));
            var stdout = CliApp.Out(parseResult);
            if (outputFormat == OutputFormat.Json)
            {
                var json = JsonSerializer.SerializeToNode(report, OutputFormats.Json)!.AsObject();
                json["run"] = JsonSerializer.SerializeToNode(run, OutputFormats.Json);
                stdout.WriteLine(json.ToJsonString(OutputFormats.Json));
            }
            else
            {
                WriteTable(stdout, report, run, built);
            }

            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>Wall and CPU time of the run itself: the benchmark figures, not part of the modelled results.</summary>
    internal sealed record RunCost(double WallSeconds, double CpuSeconds, double EventsPerCpuSecond);

    private static (SimulationReport Report, RunCost Run) Measure(SimulationRunner runner, TextWriter stderr)
    {
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        SimulationReport report;
        if (ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected)
        {
            // A progress bar only where a person watches; files, pipes and tests get the result alone.
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            SimulationReport? result = null;
            console.Progress().AutoClear(true).Start(ctx =>
            {
                var task = ctx.AddTask("simulating model time", maxValue: 1.0);
                result = runner.Run(new SynchronousProgress(p => task.Value = p));
            });
            report = result!;
        }
        else
        {
            report = runner.Run();
        }

        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        return (report, new RunCost(wall, cpu, (report.Events + report.Steps) / Math.Max(cpu, 1e-9)));
    }

    private static void WriteTable(TextWriter writer, SimulationReport r, RunCost run, Deployment deployment)
    {
        var w = r.Workload;
        string fleet = r.Router is null ? "" : $"{r.Replicas.Count} replicas behind {r.Router}, each ";
        string load = w.ArrivalRate > 0 ? $"{w.ArrivalRate:G4} conversations/s arriving" : $"{Units.Count(w.Users)} users";
        string warmup = w.WarmupSeconds > 0 ? $" ({Units.Seconds(w.WarmupSeconds)} of warm-up left out)" : "";
        writer.WriteLine(
            $"{r.Model} on {fleet}{r.TensorParallel} x {r.Gpu}, {r.Scheduler}: {load}, {ContextText(w)} context, " +
            $"{w.Turns} turns of +{Units.Count(w.TurnTokens)} tokens, {OutputText(w)} output tokens, think {Units.Seconds(w.ThinkTimeSeconds)}, " +
            $"{ConversationText(w)}, {Units.Seconds(w.DurationSeconds)} of model time{warmup}, seed {w.Seed}");
        writer.WriteLine(EstimateCommand.PrecisionAndEfficiency(deployment));

        var metrics = ConsoleTable.Create("Metric", "Value", "").RightAlign(1);
        metrics.AddRow("Concurrency", $"{r.MeanRunning:F2}", $"mean running sequences (max {r.MaxRunning}, mean waiting {r.MeanWaiting:F1}, {Units.Count(r.MaxConcurrentUsers)} users fit at the {(w.ContextLengths is null ? "" : "median ")}first-turn context)");
        metrics.AddRow("Prefilling", $"{r.PrefillTokensPerSecond:F0} tok/s", $"{Units.Count(r.PrefillTokens)} tokens prefilled, {Units.Count(r.CachedTokens)} reused from cache, {Units.Count(r.RecomputedTokens)} recomputed");
        metrics.AddRow("Decoding", $"{r.DecodeTokensPerSecond:F1} tok/s", $"{Units.Count(r.TokensGenerated)} tokens generated");
        metrics.AddRow("Context switching", $"{r.ContextSwitchesPerSecond:F3} /s", $"{Units.Count(r.ContextSwitches)} swaps, {Units.Bytes(r.SwapBytes)} moved, {Units.Count(r.Preemptions)} preemptions, {Units.Count(r.SessionsDropped)} sessions dropped, {Units.Count(r.SessionsEvicted)} evicted at the session limit");
        metrics.AddRow("Requests", Units.Count(r.RequestsCompleted), $"completed ({Units.Count(r.RequestsRejected)} refused, {Units.Count(r.RequestsInFlight)} in flight at the end)");
        metrics.AddRow("Cache states", "", string.Join(", ", r.CacheStates.Select(kv => $"{kv.Key} {kv.Value}")));
        metrics.AddRow("GPU busy", "", string.Join(", ", r.GpuBusy.Select(kv => $"{kv.Key} {kv.Value:P1}")));
        ConsoleTable.Write(writer, metrics);
        writer.WriteLine();

        var latency = ConsoleTable.Create("Latency", "p50", "p90", "p99", "max", "mean").RightAlign(1, 2, 3, 4, 5);
        foreach (var (name, s) in new[] { ("TTFT", r.TtftSeconds), ("ITL", r.ItlSeconds), ("E2E", r.E2eSeconds) })
        {
            latency.AddRow(name, Units.Seconds(s.P50), Units.Seconds(s.P90), Units.Seconds(s.P99), Units.Seconds(s.Max), Units.Seconds(s.Mean));
        }

        ConsoleTable.Write(writer, latency);
        writer.WriteLine();
        if (r.Router is not null)
        {
            var byReplica = ConsoleTable.Create("Replica", "Turns", "Mean running", "Cache states").RightAlign(1, 2);
            foreach (var replica in r.Replicas)
            {
                byReplica.AddRow(
                    replica.Index.ToString(CultureInfo.InvariantCulture), Units.Count(replica.RequestsCompleted), $"{replica.MeanRunning:F2}",
                    string.Join(", ", replica.CacheStates.Select(kv => $"{kv.Key} {kv.Value}")));
            }

            ConsoleTable.Write(writer, byReplica);
            writer.WriteLine();
        }

        writer.WriteLine(
            $"Simulated {Units.Count(r.Events)} events and {Units.Count(r.Steps)} steps in {run.WallSeconds:F2} s wall, {run.CpuSeconds:F2} s CPU " +
            $"({run.EventsPerCpuSecond / 1e6:F2} M events per CPU second).");
    }

    /// <summary>
    /// <c>--conversation</c> and <c>--shared-prefix</c>, as simulate and capacity both take them; the mode's name is
    /// checked here (naming the flag and the value), the prefix's length by <see cref="WorkloadOptions.Validate"/>.
    /// </summary>
    internal static (Option<string> Conversation, Option<long> SharedPrefix) CreateConversationOptions(WorkloadOptions defaults)
    {
        var conversation = new Option<string>("--conversation")
        {
            Description = "How later turns reach the engine: session (the engine keeps each conversation's history) or resend "
                + "(no session: each turn resends the whole conversation, found again only by prefix caching, as OpenAI API clients do).",
            HelpName = "session|resend",
            DefaultValueFactory = _ => WorkloadOptions.ModeName(defaults.Conversation),
        };
        conversation.Validators.Add(result =>
        {
            string? name = result.GetValueOrDefault<string>();
            if (WorkloadOptions.ParseMode(name) is null)
            {
                result.AddError($"--conversation: unknown mode '{name}', expected session or resend");
            }
        });
        var sharedPrefix = TokenCountOption.Create(
            "--shared-prefix",
            "The first tokens of every conversation's first prompt, the same for all users (a system prompt), part of --context; shared in HBM only with --conversation resend.",
            defaults.SharedPrefixTokens);
        return (conversation, sharedPrefix);
    }

    /// <summary>"sessions", or "resent conversations, 40K-token shared prefix".</summary>
    internal static string ConversationText(WorkloadOptions w)
    {
        string mode = w.Conversation == ConversationMode.Resend ? "resent conversations (no session, prefix caching)" : "sessions";
        return w.SharedPrefixTokens > 0 ? $"{mode}, {Units.Count(w.SharedPrefixTokens)}-token shared prefix" : mode;
    }

    /// <summary>"50K-token", or the spec a conversation's context is drawn from.</summary>
    internal static string ContextText(WorkloadOptions w) => w.ContextLengths is { } lengths ? lengths.Spec : $"{Units.Count(w.ContextTokens)}-token";

    internal static string OutputText(WorkloadOptions w) => w.OutputLengths is { } lengths ? lengths.Spec : Units.Count(w.OutputTokens);

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
