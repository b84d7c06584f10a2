using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

using MockServe.Core.Capacity;
using MockServe.Core.Cluster;
using MockServe.Core.CostModel;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Core.Simulation;
using MockServe.Core.Workload;
using MockServe.Server.Configuration;

using Spectre.Console;

namespace MockServe.Server.Cli;

/// <summary><c>mockserve capacity</c>: how many users each deployment of a grid serves within an SLO, and what binds.</summary>
internal static class CapacityCommand
{
    /// <summary>The SLO when none is given: a chat user's first token within 10 s at p99 and a reading-speed stream.</summary>
    public const string DefaultSlo = "ttft-p50=2s,itl-p99=100ms";

    public const double DefaultDurationSeconds = 300;

    /// <summary>The first-turn contexts of the default grid besides each model's longest below 128K.</summary>
    public static IReadOnlyList<long> DefaultContexts { get; } = [8_000, 32_000];

    /// <summary>The longest context of the default grid: 128Ki tokens, the upper end of common long-context serving.</summary>
    public const long LongContextCap = 131_072;

    /// <summary>The tensor-parallel degrees tried, smallest first, for a case without --tp.</summary>
    public static IReadOnlyList<int> AutoTensorParallel { get; } = [1, 2, 4, 8];

    public static Command Create(SettingSources sources)
    {
        var defaults = new WorkloadOptions();
        var models = new Option<string>("--model") { Description = "Models, comma-separated: preset ids or profile files. Default: every preset.", HelpName = "ID|FILE,..." };
        var gpus = new Option<string>("--gpu") { Description = "GPUs, comma-separated: preset ids or profile files. Default: every preset.", HelpName = "ID|FILE,..." };
        var tps = new Option<string>("--tp")
        {
            Description = "Tensor-parallel degrees, comma-separated. Default: for each case the smallest of 1, 2, 4 and 8 GPUs that holds the weights and one context.",
            HelpName = "N,...",
        };
        var kvBits = new Option<string>("--kv-bits") { Description = "Bits per stored KV element, comma-separated. Default: the model's.", HelpName = "B,..." };
        var weightBits = new Option<string>("--weight-bits")
        {
            Description = "Bits per stored weight, comma-separated (8 computes at the GPU's FP8 peak where it has one). Default: the model's.",
            HelpName = "B,...",
        };
        var efficiencies = new Option<string>("--efficiency")
        {
            Description = $"Efficiency sets, comma-separated: {EfficiencyPresets.Peak} (the datasheet roofline, no host time), {EfficiencyPresets.Realistic} (per GPU, from published measurements) or an efficiency file. Default: {EfficiencyPresets.Peak}.",
            HelpName = "NAME|FILE,...",
        };
        var contexts = new Option<string>("--context")
        {
            Description = $"First-turn prompt tokens, comma-separated (8k,32k), or one length spec each conversation's context is drawn from ({LengthSpec.AllowedForms}). Default: 8k, 32k and each model's longest below 128K.",
            HelpName = "TOKENS,...|SPEC",
        };
        var turns = new Option<int>("--turns") { Description = "Turns per conversation.", HelpName = "N", DefaultValueFactory = _ => defaults.Turns };
        var turnTokens = TokenCountOption.Create("--turn-tokens", "New prompt tokens of each later turn.", defaults.TurnTokens, "N");
        var thinkTime = DurationOption.Create("--think-time", "Mean pause between a turn's last token and the next turn (uniform in 0.5x..1.5x).", defaults.ThinkTimeSeconds);
        var outputTokens = LengthOption.Create("--output-tokens", "Tokens generated per turn, drawn per turn from a spec.", defaults.OutputTokens, "N|SPEC");
        var (conversation, sharedPrefix) = SimulateCommand.CreateConversationOptions(defaults);
        var duration = DurationOption.Create("--duration", "Model time of each simulated run.", DefaultDurationSeconds);
        var warmup = new Option<string>("--warmup") { Description = "Model time at the start of each run left out of the results. Default: 10% of --duration.", HelpName = "DURATION" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per point (1, 2, ... N): a point passes only if every seed's run meets every SLO.", HelpName = "N", DefaultValueFactory = _ => 1 };
        var slo = new Option<string>("--slo") { Description = "SLOs every run must meet: ttft|itl|e2e with -p50|-p90|-p95|-p99, limits in ms or s.", HelpName = "KEY=LIMIT,...", DefaultValueFactory = _ => DefaultSlo };
        var mode = new Option<CapacityMode>("--mode") { Description = "Search concurrent users (closed loop) or the conversation arrival rate per second (open loop).", HelpName = "users|rate", DefaultValueFactory = _ => CapacityMode.Users };
        var precision = new Option<double>("--precision") { Description = "Stop when the last pass and first failure are within this share of the pass (users: also within 1 user).", HelpName = "F", DefaultValueFactory = _ => 0.05 };
        var maxSteps = new Option<int>("--max-steps") { Description = "Points evaluated per deployment at the most; the answer is then the largest that passed.", HelpName = "N", DefaultValueFactory = _ => 16 };
        var replicas = new Option<int>("--replicas") { Description = "Replicas per deployment, each its own GPU group, behind --router.", HelpName = "N", DefaultValueFactory = _ => 1 };
        var router = new Option<string>("--router") { Description = $"Router in front of the replicas: {string.Join(", ", Routers.Names)}.", HelpName = "NAME", DefaultValueFactory = _ => "session-affinity" };
        var targetUsers = new Option<long?>("--target-users") { Description = "Print the GPUs each deployment needs for this many users.", HelpName = "N" };
        var gpuPrice = new Option<string>("--gpu-price") { Description = "Price per GPU-hour by GPU id, for the cost per user-hour: a100-80gb=1.8,h100-sxm=3.2.", HelpName = "GPU=PRICE,..." };
        var chart = new Option<FileInfo?>("--chart") { Description = "Draw the first SLO's metric against the load per deployment, with the SLO line and the point found (.png or .svg).", HelpName = "FILE" };
        var format = OutputFormats.CreateOption();

        var command = new Command(
            "capacity",
            "Find how many users (or conversations per second) each deployment serves within an SLO, and which limit binds, by searching runs on the virtual clock.");
        SettingsFlags.AddTo(command, [Settings.Engine]);
        foreach (Option option in new Option[] { models, gpus, tps, kvBits, weightBits, efficiencies, contexts, turns, turnTokens, thinkTime, outputTokens, conversation, sharedPrefix, duration, warmup, seeds, slo, mode, precision, maxSteps, replicas, router, targetUsers, gpuPrice, chart, format })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            EngineOptions engineOptions;
            using (var settings = SettingsFlags.Load(parseResult, sources, [Settings.Engine]))
            {
                engineOptions = settings.Get<EngineOptions>();
            }

            var errors = new List<string>();
            SloSet? slos = null;
            try
            {
                slos = SloSet.Parse(parseResult.GetValue(slo)!);
            }
            catch (FormatException ex)
            {
                errors.Add(ex.Message);
            }

            double durationSeconds = parseResult.GetValue(duration);
            string? warmupText = parseResult.GetValue(warmup);
            double warmupSeconds = durationSeconds / 10;
            if (warmupText is not null && !SettingText.TryParseDuration(warmupText, out warmupSeconds))
            {
                errors.Add($"--warmup: expected a duration such as 250ms, 5s, 2m or 1h, got '{warmupText}'");
            }

            var outputValue = parseResult.GetValue(outputTokens)!;
            var workload = new WorkloadOptions
            {
                Turns = parseResult.GetValue(turns),
                TurnTokens = parseResult.GetValue(turnTokens),
                ThinkTimeSeconds = parseResult.GetValue(thinkTime),
                OutputTokens = outputValue.Lengths is null ? outputValue.Tokens : defaults.OutputTokens,
                OutputLengths = outputValue.Lengths,
                DurationSeconds = durationSeconds,
                WarmupSeconds = warmupSeconds,
                Users = 1,
                Conversation = WorkloadOptions.ParseMode(parseResult.GetValue(conversation)) ?? defaults.Conversation,
                SharedPrefixTokens = parseResult.GetValue(sharedPrefix),
            };
            errors.AddRange(workload.Validate().Where(e => !e.StartsWith("--shared-prefix", StringComparison.Ordinal)));
            var searchMode = parseResult.GetValue(mode);
            int replicaCount = parseResult.GetValue(replicas);
            string routerName = parseResult.GetValue(router)!;
            if (replicaCount is < 1 or > 1024)
            {
                errors.Add($"--replicas: must be between 1 and 1024, got {replicaCount}");
            }

            if (Routers.Create(routerName) is null)
            {
                errors.Add($"--router: '{routerName}' is not one of {string.Join(", ", Routers.Names)}");
            }

            var targetUserCount = parseResult.GetValue(targetUsers);
            if (targetUserCount is < 1)
            {
                errors.Add($"--target-users: must be at least 1, got {targetUserCount}");
            }
            else if (targetUserCount is not null && searchMode == CapacityMode.Rate)
            {
                errors.Add("--target-users: counts concurrent users, so it needs --mode users");
            }

            int seedCount = parseResult.GetValue(seeds);
            if (seedCount is < 1 or > 100)
            {
                errors.Add($"--seeds: must be between 1 and 100, got {seedCount}");
            }

            var prices = ParsePrices(parseResult.GetValue(gpuPrice), errors);
            var grid = new CapacityGrid(
                parseResult.GetValue(models),
                parseResult.GetValue(gpus),
                parseResult.GetValue(tps),
                parseResult.GetValue(kvBits),
                parseResult.GetValue(weightBits),
                parseResult.GetValue(efficiencies),
                parseResult.GetValue(contexts));
            var cases = BuildCases(grid, workload, errors);
            // The shared prefix is part of each case's context: checked against every one, by Core's rule.
            foreach (var @case in cases)
            {
                var problems = (workload with { ContextTokens = @case.ContextTokens, ContextLengths = @case.ContextLengths }).Validate();
                errors.AddRange(problems.Where(e => e.StartsWith("--shared-prefix", StringComparison.Ordinal) && !errors.Contains(e)));
            }

            var search = new CapacitySearchOptions
            {
                Slos = slos ?? SloSet.Parse(DefaultSlo),
                Mode = searchMode,
                Seeds = [.. Enumerable.Range(1, Math.Clamp(seedCount, 1, 100))],
                Precision = parseResult.GetValue(precision),
                MaxSteps = parseResult.GetValue(maxSteps),
                Min = searchMode == CapacityMode.Users ? 1 : MinRate(workload),
                // The workload's own bounds: a million users, or a million conversations a second.
                Max = 1_000_000,
            };
            errors.AddRange(search.Validate());
            if (errors.Count > 0)
            {
                return CliApp.Fail(parseResult, string.Join(Environment.NewLine, errors));
            }

            var plan = new CapacityPlan
            {
                Cases = cases,
                Engine = engineOptions,
                Workload = workload,
                Search = search,
                Replicas = replicaCount,
                Router = replicaCount > 1 ? routerName : null,
            };
            long start = Stopwatch.GetTimestamp();
            var outcomes = await RunAsync(plan, CliApp.Error(parseResult), cancellationToken).ConfigureAwait(false);

            // Wall time is the benchmark's figure, not a result: on stderr, so the same seeds print the same stdout.
            CliApp.Error(parseResult).WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"capacity: {cases.Count} deployments searched in {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s wall on {plan.Parallelism} cores"));
            var report = new CapacityReport(plan, outcomes, targetUserCount, prices);
            var stdout = CliApp.Out(parseResult);
            if (parseResult.GetValue(format) == OutputFormat.Json)
            {
                OutputFormats.WriteJson(stdout, report.ToJson());
            }
            else
            {
                report.WriteTable(stdout);
            }

            if (parseResult.GetValue(chart) is { } file)
            {
                if (CapacityChart.Save(file.FullName, search.Slos.Thresholds[0], searchMode, outcomes) is { } chartError)
                {
                    return CliApp.Fail(parseResult, chartError);
                }
            }

            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>
    /// The lowest rate searched: conversations bringing about 20 measured turns on average, so a run at the floor is
    /// not judged on a handful.
    /// </summary>
    internal static double MinRate(WorkloadOptions workload) =>
        20.0 / (Math.Max(1, workload.DurationSeconds - workload.WarmupSeconds) * workload.Turns);

    private static async Task<IReadOnlyList<CapacityOutcome>> RunAsync(CapacityPlan plan, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (!ReferenceEquals(stderr, Console.Error) || Console.IsErrorRedirected)
        {
            return await CapacityPlanner.RunAsync(plan, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        // A progress bar only where a person watches; files, pipes and tests get the result alone.
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        IReadOnlyList<CapacityOutcome> outcomes = [];
        await console.Progress().AutoClear(true).StartAsync(async ctx =>
        {
            var task = ctx.AddTask($"searching {plan.Cases.Count} deployments", maxValue: plan.Cases.Count);
            outcomes = await CapacityPlanner.RunAsync(plan, _ => task.Increment(1), cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return outcomes;
    }

    private static Dictionary<string, double> ParsePrices(string? text, List<string> errors)
    {
        var prices = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase);
        foreach (string item in Split(text))
        {
            string[] parts = item.Split('=', 2);
            if (parts.Length != 2
                || !double.TryParse(parts[1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double price)
                || !(price > 0))
            {
                errors.Add($"--gpu-price: '{item}' is not GPU=PRICE with a price above 0 per GPU-hour (a100-80gb=1.8)");
                continue;
            }

            prices[parts[0].Trim()] = price;
        }

        return prices;
    }

    /// <summary>The grid's comma lists as given; null where the flag was not.</summary>
    private sealed record CapacityGrid(string? Models, string? Gpus, string? Tp, string? KvBits, string? WeightBits, string? Efficiencies, string? Contexts);

    private static List<CapacityCase> BuildCases(CapacityGrid grid, WorkloadOptions workload, List<string> errors)
    {
        string[] modelIds = grid.Models is null ? [.. Presets.Models.Select(m => m.Id)] : Split(grid.Models);
        string[] gpuIds = grid.Gpus is null ? [.. Presets.Gpus.Select(g => g.Id)] : Split(grid.Gpus);
        var tpValues = ParseList<int?>(grid.Tp, "--tp", s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : null, errors);
        var bitValues = ParseList<double?>(grid.KvBits, "--kv-bits", ParseBits, errors);
        var weightBitValues = ParseList<double?>(grid.WeightBits, "--weight-bits", ParseBits, errors);
        // A name or a file, checked per GPU by ProfileOptions: a realistic set exists for some GPUs only.
        string[] efficiencyNames = grid.Efficiencies is null ? [EfficiencyPresets.Peak] : Split(grid.Efficiencies);
        if (efficiencyNames.Length == 0)
        {
            errors.Add($"--efficiency: '{grid.Efficiencies}' names no efficiency set: expected {EfficiencyPresets.Names}, comma-separated");
        }

        var contextValues = ParseContexts(grid.Contexts, errors);
        // A drawn output is sized at its median, as a drawn context is; fixed, it is the count as before.
        long typicalOutput = workload.OutputLengths is { } outputs ? LengthMedian.Of(outputs) : workload.OutputTokens;
        // The grid in the order of the flags: model, GPU, TP, KV bits, weight bits, efficiency, then context.
        var profiles = from model in modelIds
                       from gpu in gpuIds
                       from tp in tpValues
                       from kvBits in bitValues
                       from weightBits in weightBitValues
                       from efficiency in efficiencyNames
                       select new ProfileOptions { Model = model, Gpu = gpu, TensorParallel = tp, KvBits = kvBits, WeightBits = weightBits, Efficiency = efficiency };
        var cases = new List<CapacityCase>();
        foreach (var options in profiles)
        {
            var problems = options.Validate();
            if (problems.Count > 0)
            {
                errors.AddRange(problems.Select(p => $"{FlagOf(p.Property)}: {p.Problem}").Where(e => !errors.Contains(e)));
                continue;
            }

            var deployment = options.ToDeployment();
            var contextsHere = grid.Contexts is null ? DefaultContextsFor(deployment.Model, workload).Select(c => new LengthValue(c, null)) : contextValues;
            // Without --tp each case gets the smallest group that can serve it at all, as a planner would start; the
            // deployment carries its weight bits, so 4-bit weights can need fewer GPUs than 16-bit ones.
            cases.AddRange(contextsHere.Select(c => new CapacityCase(
                options.TensorParallel is null ? SmallestThatFits(deployment, c.Tokens + typicalOutput) : deployment, c.Tokens)
            {
                ContextLengths = c.Lengths,
                EfficiencyName = options.Efficiency,
            }));
        }

        return cases;
    }

    private static double? ParseBits(string text) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v) ? v : null;

    /// <summary>
    /// The deployment on the smallest tensor-parallel group of 1, 2, 4 or 8 GPUs (from the profile's own count up)
    /// whose HBM holds the weights and one context of <paramref name="tokens"/>; the profile's own when none does, so
    /// the case is listed as not fitting.
    /// </summary>
    internal static Deployment SmallestThatFits(Deployment deployment, long tokens)
    {
        foreach (int tp in AutoTensorParallel.Where(t => t >= deployment.TensorParallel))
        {
            var candidate = deployment with { TensorParallel = tp };
            if (new GpuCostModel(candidate).MaxConcurrentUsers(tokens) >= 1)
            {
                return candidate;
            }
        }

        return deployment;
    }

    /// <summary>
    /// 8K, 32K and the model's longest context below 128K (its own limit less the output); the last is left out when
    /// it is within 5% of the one below, where it would repeat that row. A model shorter than 8K gets its longest only.
    /// </summary>
    internal static IReadOnlyList<long> DefaultContextsFor(ModelProfile model, WorkloadOptions workload)
    {
        // The shortest output is what the simulator checks a context against (a longer draw is cut to fit).
        long longest = Math.Min(model.MaxContext, LongContextCap) - workload.MinOutputTokens;
        var list = DefaultContexts.Where(c => c <= longest).ToList();
        if (list.Count == 0 || longest > list[^1] * 1.05)
        {
            list.Add(longest);
        }

        return list;
    }

    /// <summary>
    /// Counts, comma-separated; or one length spec, taken whole when the value has a colon (a spec's own commas, as in
    /// lognormal:8000,0.8, are not list separators), its case sized at the spec's median.
    /// </summary>
    private static List<LengthValue> ParseContexts(string? text, List<string> errors)
    {
        if (text is null || !text.Contains(':', StringComparison.Ordinal))
        {
            return [.. ParseList<long?>(text, "--context", s => TokenCounts.TryParse(s, out long v) ? v : null, errors)
                .Where(v => v is not null).Select(v => new LengthValue(v!.Value, null))];
        }

        if (!LengthOption.TryParse("--context", text, out var value, out string? error))
        {
            errors.Add(error);
            return [];
        }

        return [value with { Tokens = LengthMedian.Of(value.Lengths!) }];
    }

    private static string FlagOf(string property) => property switch
    {
        nameof(ProfileOptions.Model) => "--model",
        nameof(ProfileOptions.Gpu) => "--gpu",
        nameof(ProfileOptions.TensorParallel) => "--tp",
        nameof(ProfileOptions.KvBits) => "--kv-bits",
        nameof(ProfileOptions.WeightBits) => "--weight-bits",
        nameof(ProfileOptions.Efficiency) => "--efficiency",
        _ => property,
    };

    private static List<T?> ParseList<T>(string? text, string flag, Func<string, T?> parse, List<string> errors)
    {
        if (text is null)
        {
            return [default];
        }

        var values = new List<T?>();
        foreach (string item in Split(text))
        {
            var value = parse(item);
            if (value is null)
            {
                errors.Add($"{flag}: '{item}' is not a valid value");
                continue;
            }

            values.Add(value);
        }

        return values;
    }

    private static string[] Split(string? text) =>
        text is null ? [] : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
