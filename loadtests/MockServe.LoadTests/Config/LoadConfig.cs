using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Config;

/// <summary>
/// What a run is told, by a scenario file (<c>--config</c>) or by flags: both read into this one model, with the
/// same key names (<c>think-time</c> in a file is <c>--think-time</c> on the command line). Unset values are null;
/// <see cref="Over"/> lays the flags over the file.
/// </summary>
public sealed record LoadConfig
{
    public Uri? Target { get; init; }

    public TimeSpan? Duration { get; init; }

    public int? Seed { get; init; }

    public string? ReportDir { get; init; }

    /// <summary>Thresholds for every scenario (each scenario may add its own).</summary>
    public SloSet? Slo { get; init; }

    /// <summary>The embedded server's wall seconds per model second.</summary>
    public double? TimeScale { get; init; }

    /// <summary>One built-in scenario to run (<c>--scenario</c>); it replaces the file's <see cref="Scenarios"/>.</summary>
    public string? Scenario { get; init; }

    /// <summary>Closed model users for the built-in scenarios.</summary>
    public int? Users { get; init; }

    /// <summary>Open model: Poisson arrivals a second for the built-in scenarios.</summary>
    public double? Rate { get; init; }

    /// <summary>Workload settings for every scenario.</summary>
    public WorkloadOverrides Workload { get; init; } = WorkloadOverrides.None;

    /// <summary>Cap on requests in flight for every scenario (each scenario may set its own).</summary>
    public int? MaxInFlight { get; init; }

    public OverflowPolicy? Overflow { get; init; }

    /// <summary>Several scenarios run together against one server.</summary>
    public IReadOnlyList<ScenarioConfig> Scenarios { get; init; } = [];

    /// <summary>Where relative paths (hist: files, traces) are taken from: the file's folder; null is the working folder.</summary>
    public string? BaseDirectory { get; init; }

    /// <summary>This layer's values where set, else <paramref name="lower"/>'s; <see cref="Scenario"/> set here drops the lower scenarios.</summary>
    public LoadConfig Over(LoadConfig? lower) => lower is null ? this : new()
    {
        Target = Target ?? lower.Target,
        Duration = Duration ?? lower.Duration,
        Seed = Seed ?? lower.Seed,
        ReportDir = ReportDir ?? lower.ReportDir,
        Slo = Slo ?? lower.Slo,
        TimeScale = TimeScale ?? lower.TimeScale,
        Scenario = Scenario ?? lower.Scenario,
        Users = Users ?? lower.Users,
        Rate = Rate ?? lower.Rate,
        Workload = Workload.Over(lower.Workload),
        MaxInFlight = MaxInFlight ?? lower.MaxInFlight,
        Overflow = Overflow ?? lower.Overflow,
        Scenarios = Scenario is null ? (Scenarios.Count > 0 ? Scenarios : lower.Scenarios) : [],
        BaseDirectory = lower.BaseDirectory ?? BaseDirectory,
    };

    // Records compare lists by reference; a file read twice (YAML and JSON) must compare equal.
    public bool Equals(LoadConfig? other) =>
        other is not null
        && Target == other.Target && Duration == other.Duration && Seed == other.Seed && ReportDir == other.ReportDir
        && Slo?.ToString() == other.Slo?.ToString() && TimeScale == other.TimeScale && Scenario == other.Scenario
        && Users == other.Users && Rate == other.Rate && Workload == other.Workload && MaxInFlight == other.MaxInFlight
        && Overflow == other.Overflow && Scenarios.SequenceEqual(other.Scenarios) && BaseDirectory == other.BaseDirectory;

    public override int GetHashCode() => HashCode.Combine(Target, Duration, Seed, Scenario, Workload, Scenarios.Count);
}

/// <summary>One entry of a scenario file's <c>scenarios</c> list.</summary>
/// <param name="Name">The scenario's name in the report (unique in the run).</param>
/// <param name="Path">Its key path, <c>scenarios[1]</c>, which errors name.</param>
public sealed record ScenarioConfig(string Name, string Path)
{
    /// <summary>A built-in scenario to start from; null: chat users of <see cref="Workload"/> (then <see cref="Load"/> is required).</summary>
    public string? Builtin { get; init; }

    public WorkloadOverrides Workload { get; init; } = WorkloadOverrides.None;

    /// <summary>The load simulations, in order; null keeps the built-in's.</summary>
    public IReadOnlyList<LoadStep>? Load { get; init; }

    /// <summary>Thresholds of this scenario, added to the run's.</summary>
    public SloSet? Slo { get; init; }

    public int? MaxInFlight { get; init; }

    public OverflowPolicy? Overflow { get; init; }

    public bool Equals(ScenarioConfig? other) =>
        other is not null && Name == other.Name && Path == other.Path && Builtin == other.Builtin && Workload == other.Workload
        && (Load is null ? other.Load is null : other.Load is not null && Load.SequenceEqual(other.Load))
        && Slo?.ToString() == other.Slo?.ToString() && MaxInFlight == other.MaxInFlight && Overflow == other.Overflow;

    public override int GetHashCode() => HashCode.Combine(Name, Path, Builtin, Workload);
}

/// <summary>One load simulation of a scenario file, checked by its <see cref="Simulation"/> factory.</summary>
/// <param name="Kind">keep-constant, ramping-constant, inject, ramping-inject, inject-random, iterations-for-constant,
/// iterations-for-inject, pause, inject-poisson or inject-gamma.</param>
/// <param name="Simulation">What the factory built.</param>
public sealed record LoadStep(string Kind, string Path, LoadSimulation Simulation)
{
    public bool Equals(LoadStep? other) => other is not null && Kind == other.Kind && Path == other.Path && Simulation.ToString() == other.Simulation.ToString();

    public override int GetHashCode() => HashCode.Combine(Kind, Path);
}
