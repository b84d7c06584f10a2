using MockServe.Contracts.V1;
using MockServe.LoadTests.Config;
using MockServe.LoadTests.Llm;
using MockServe.LoadTests.Simulations;
using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Scenarios;

/// <summary>What a built-in scenario is built from: the target's client and the run's flags.</summary>
/// <param name="Users">Closed model: users held at once (null: the scenario's default).</param>
/// <param name="Rate">Open model: new users a second, Poisson arrivals (null: the closed model).</param>
public sealed record BuiltInSettings(InferenceService.InferenceServiceClient Client, TimeSpan Duration, int? Users, double? Rate, int Seed)
{
    /// <summary>Workload settings laid over every one of the scenario's workloads (the workload flags, a file's keys).</summary>
    public WorkloadOverrides Workload { get; init; } = WorkloadOverrides.None;

    /// <summary>What a workload error names its key after: <c>--</c> for flags, <c>scenarios[0].workload.</c> in a file.</summary>
    public string WorkloadKeyPrefix { get; init; } = "--";

    /// <summary>Where relative hist: and trace paths are taken from; null: the working folder.</summary>
    public string? BaseDirectory { get; init; }

    /// <summary>The name to give the scenario (a scenario file's <c>name</c>); a built-in of several scenarios prefixes theirs with it.</summary>
    public string? Name { get; init; }
}

/// <summary>A scenario that ships with mockserve-load.</summary>
public sealed record BuiltInScenario(string Name, string Description, Func<BuiltInSettings, IReadOnlyList<ScenarioProps>> Build)
{
    /// <summary>
    /// Settings of the embedded server the scenario needs (keys below MockServe:, e.g. Profile:TensorParallel), when the
    /// run starts one; a --target is the user's own.
    /// </summary>
    public IReadOnlyDictionary<string, string?> Embedded { get; init; } = new Dictionary<string, string?>();
}

public static class BuiltInScenarios
{
    public static IReadOnlyList<BuiltInScenario> All { get; } =
    [
        new("long-context-chat",
            "The reference case: multi-turn chat users with 50K-token sessions on the default profile (Yi-34B, one A100-80GB); 4 users, 4 turns each.",
            s => [LongContextChat(s, users: 4)]),
        new("mixed-context",
            "Short, medium and long prompts side by side (4K, 32K, 128K tokens, one turn each): how long prompts hurt short ones. The embedded server shards Yi-34B over two A100-80GB (tensor parallel 2): on one, a 128K prompt never fits.",
            s =>
            [
                Chat(Part(s, "context-4k"), s, users: 6, OneTurn("fixed:4000")),
                Chat(Part(s, "context-32k"), s, users: 2, OneTurn("fixed:32000")),
                Chat(Part(s, "context-128k"), s, users: 1, OneTurn("fixed:128000")),
            ])
        {
            // 128K tokens of Yi-34B's KV are 29.3 GiB (240 KiB a token): one A100-80GB keeps 13.9 GiB for KV beside the
            // weights and the reserve, two keep 91.9 GiB (`mockserve estimate --context 128000 [--tp 2]`).
            Embedded = new Dictionary<string, string?> { ["Profile:TensorParallel"] = "2" },
        },
        new("burst",
            "A steady 0.5 users a second of 8K-token single turns, with a spike to 5 a second for a tenth of the run in the middle.",
            s =>
            {
                var third = s.Duration * 0.45;
                var spike = s.Duration * 0.1;
                double rate = s.Rate ?? 0.5;
                return [ChatUsers.Create(s.Name ?? "burst", s.Client, Plan(OneTurn("fixed:8000"), s)).WithLoadSimulations(
                    Simulation.InjectPoisson(rate, third),
                    Simulation.InjectPoisson(rate * 10, spike),
                    Simulation.InjectPoisson(rate, s.Duration - third - spike))];
            }),
        new(CapacitySweep,
            "long-context-chat users stepped up 1, 2, 3... (to --users, default 8), each step held for --duration / steps, until the SLO (--slo, default ttft-p99=5s) breaks: prints the most users that held.",
            s => [LongContextChat(s, s.Users ?? 1)]),
        new(TraceReplayName,
            "Replays --trace FILE.jsonl (time, session, prompt_tokens, output_tokens a line): each record at its time times --trace-time-scale, each session's turns in order; records after --duration are not sent.",
            s =>
            {
                var plan = Plan(new WorkloadOptions(), s, allowTrace: true);
                return plan.Trace is null
                    ? throw new ArgumentException($"{WorkloadOverrides.KeyOf(s.WorkloadKeyPrefix)(nameof(WorkloadOptions.Trace))} is missing: trace-replay replays a trace file (JSONL)")
                    : [TraceReplay.Create(s.Name ?? TraceReplayName, s.Client, plan, s.Duration)];
            }),
    ];

    /// <summary>The built-in that replays a trace; the only one that takes --trace.</summary>
    public const string TraceReplayName = "trace-replay";

    /// <summary>The sweep's name: run step by step by the command line rather than as one run.</summary>
    public const string CapacitySweep = "capacity-sweep";

    public static BuiltInScenario? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    /// <summary>The reference case's users: 50K-token conversations of 4 turns.</summary>
    public static ScenarioProps LongContextChat(BuiltInSettings s, int users) => Chat(s.Name ?? "long-context-chat", s, users, new WorkloadOptions
    {
        Context = "uniform:45000-55000",
        Message = "fixed:300",
        Output = "fixed:200",
        Turns = "fixed:4",
        ThinkTime = "exponential:5s",
        ContextLimit = 200_000,
    });

    private static ScenarioProps Chat(string name, BuiltInSettings s, int users, WorkloadOptions workload) =>
        ChatUsers.Create(name, s.Client, Plan(workload, s)).WithLoadSimulations(
            s.Rate is { } rate ? Simulation.InjectPoisson(rate, s.Duration) : Simulation.KeepConstant(s.Users ?? users, s.Duration));

    private static WorkloadOptions OneTurn(string context) => new() { Context = context, Output = "fixed:128", Turns = "fixed:1" };

    /// <summary>Chat users of the default workload under <see cref="BuiltInSettings.Workload"/>: a scenario file's entry without a builtin.</summary>
    public static ScenarioProps Custom(BuiltInSettings s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return ChatUsers.Create(s.Name ?? "chat", s.Client, Plan(new WorkloadOptions(), s));
    }

    private static string Part(BuiltInSettings s, string name) => s.Name is null ? name : $"{s.Name}-{name}";

    /// <summary>
    /// The scenario's workload with the run's settings laid over it, checked (an <see cref="ArgumentException"/> or,
    /// for a trace's bad lines, a <see cref="FormatException"/> naming each key).
    /// </summary>
    private static WorkloadPlan Plan(WorkloadOptions options, BuiltInSettings s, bool allowTrace = false)
    {
        var keyOf = WorkloadOverrides.KeyOf(s.WorkloadKeyPrefix);
        return s.Workload.Trace is not null && !allowTrace
            ? throw new ArgumentException($"{keyOf(nameof(WorkloadOptions.Trace))} is \"{s.Workload.Trace}\": only the {TraceReplayName} scenario replays a trace")
            : WorkloadPlan.Create(s.Workload.ApplyTo(options), new Random(s.Seed), s.BaseDirectory, keyOf);
    }
}
