using MockServe.Contracts.V1;
using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Scenarios;
using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Config;

/// <summary>
/// Builds the scenarios a run is told to run: <c>--scenario</c>'s built-in, or a file's <c>scenarios</c>, each with
/// the workload, load, thresholds and in-flight cap its layers give. Precedence, lowest first: the built-in's own
/// values, the file's top level, the file's scenario entry, the flags.
/// </summary>
public static class ConfigScenarios
{
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The scenarios, or none with <paramref name="problems"/> naming each bad value. Building sends nothing, so a
    /// client over a channel no server answers yet checks everything before any load starts.
    /// </summary>
    public static IReadOnlyList<ScenarioProps> Build(LoadConfig flags, LoadConfig file, InferenceService.InferenceServiceClient client, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(flags);
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(problems);
        var run = flags.Over(file);
        var basic = new BuiltInSettings(client, run.Duration ?? DefaultDuration, run.Users, run.Rate, run.Seed ?? 1) { BaseDirectory = file.BaseDirectory };
        var runSlo = run.Slo ?? SloSet.Empty;
        int before = problems.Count;
        var built = new List<ScenarioProps>();
        if (run.Scenarios.Count == 0)
        {
            if (run.Scenario is not { } name)
            {
                problems.Add("--scenario: give a built-in scenario (see `mockserve-load scenarios`), a --config file with scenarios, or a --trace to replay");
                return [];
            }

            if (Find(name, "--scenario", problems) is { } builtIn)
            {
                var settings = basic with { Workload = run.Workload, WorkloadKeyPrefix = "--" };
                foreach (var props in Try(() => builtIn.Build(settings), problems))
                {
                    built.Add(Finish(props, runSlo, run.MaxInFlight, run.Overflow, null));
                }
            }
        }

        foreach (var entry in run.Scenarios)
        {
            var settings = basic with
            {
                Workload = flags.Workload.Over(entry.Workload.Over(file.Workload)),
                WorkloadKeyPrefix = $"{entry.Path}.workload.",
                Name = entry.Name,
            };
            IReadOnlyList<ScenarioProps> props = entry.Builtin is null
                ? Try(() => [BuiltInScenarios.Custom(settings)], problems)
                : Find(entry.Builtin, $"{entry.Path}.builtin", problems) is { } builtIn ? Try(() => builtIn.Build(settings), problems) : [];
            foreach (var p in props)
            {
                built.Add(Finish(p, entry.Slo is { } own ? new SloSet(runSlo.Thresholds.Concat(own.Thresholds)) : runSlo,
                    flags.MaxInFlight ?? entry.MaxInFlight ?? file.MaxInFlight, flags.Overflow ?? entry.Overflow ?? file.Overflow, entry.Load));
            }
        }

        foreach (var twice in built.GroupBy(s => s.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"scenarios: {twice.Count()} scenarios are named \"{twice.Key}\"; each needs a name of its own");
        }

        return problems.Count > before ? [] : built;
    }

    /// <summary>What the chosen built-ins ask of an embedded server (<see cref="BuiltInScenario.Embedded"/>); the first to set a key wins.</summary>
    public static IReadOnlyDictionary<string, string?> EmbeddedSettings(LoadConfig run)
    {
        ArgumentNullException.ThrowIfNull(run);
        IEnumerable<string?> names = run.Scenarios.Count == 0 ? [run.Scenario] : run.Scenarios.Select(s => s.Builtin);
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var builtIn in names.OfType<string>().Select(BuiltInScenarios.Find).OfType<BuiltInScenario>())
        {
            foreach (var (key, value) in builtIn.Embedded)
            {
                settings.TryAdd(key, value);
            }
        }

        return settings;
    }

    private static ScenarioProps Finish(ScenarioProps props, SloSet slo, int? maxInFlight, OverflowPolicy? overflow, IReadOnlyList<LoadStep>? load)
    {
        var scenario = props.WithThresholds(new SloSet(props.Thresholds.Thresholds.Concat(slo.Thresholds)));
        if (load is not null)
        {
            scenario = scenario.WithLoadSimulations([.. load.Select(l => l.Simulation)]);
        }

        return maxInFlight is null && overflow is null
            ? scenario
            : scenario.WithDriver(new DriverOptions
            {
                MaxInFlight = maxInFlight ?? props.Driver.MaxInFlight,
                Overflow = overflow ?? props.Driver.Overflow,
                Grace = props.Driver.Grace,
                CancelWait = props.Driver.CancelWait,
            });
    }

    private static BuiltInScenario? Find(string name, string key, List<string> problems)
    {
        var builtIn = BuiltInScenarios.Find(name);
        if (builtIn is null)
        {
            problems.Add($"{key}: unknown scenario '{name}', expected one of {string.Join(", ", BuiltInScenarios.All.Select(s => s.Name))}");
        }
        else if (builtIn.Name == BuiltInScenarios.CapacitySweep && key != "--scenario")
        {
            problems.Add($"{key}: {BuiltInScenarios.CapacitySweep} runs step by step on its own (run --scenario {BuiltInScenarios.CapacitySweep}), not in a scenario file");
            return null;
        }

        return builtIn;
    }

    /// <summary>A workload's checks (and a trace's bad lines) surface as exceptions naming the key; each line becomes a problem.</summary>
    private static IReadOnlyList<ScenarioProps> Try(Func<IReadOnlyList<ScenarioProps>> build, List<string> problems)
    {
        try
        {
            return build();
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            // ArgumentException appends " (Parameter 'x')"; the lines already name their keys.
            string message = e is ArgumentException { ParamName: { } param } ? e.Message.Replace($" (Parameter '{param}')", "", StringComparison.Ordinal) : e.Message;
            problems.AddRange(message.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
            return [];
        }
    }
}
