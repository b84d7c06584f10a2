using System.Globalization;

using MockServe.Core.Capacity;
using MockServe.Core.Profiles;

using Spectre.Console;

namespace MockServe.Server.Cli;

/// <summary>What <c>mockserve capacity</c> prints: a table for people or JSON for scripts, from the same figures.</summary>
internal sealed class CapacityReport(CapacityPlan plan, IReadOnlyList<CapacityOutcome> outcomes, long? targetUsers, IReadOnlyDictionary<string, double> prices)
{
    private bool Users => plan.Search.Mode == CapacityMode.Users;

    public void WriteTable(TextWriter writer)
    {
        var w = plan.Workload;
        string cluster = plan.Replicas > 1 ? $", {plan.Replicas} replicas behind {plan.Router}" : "";
        writer.WriteLine(
            $"SLO {plan.Search.Slos} on every one of {plan.Search.Seeds.Count} seed(s); {w.Turns} turns of +{Units.Count(w.TurnTokens)} tokens, " +
            $"{SimulateCommand.OutputText(w)} output tokens, think {Units.Seconds(w.ThinkTimeSeconds)}, {SimulateCommand.ConversationText(w)}; runs of {Units.Seconds(w.DurationSeconds)} " +
            $"after {Units.Seconds(w.WarmupSeconds)} of warm-up{cluster}");

        // Weight bits and efficiency get columns only where a deployment departs from the default (the model's weights,
        // the peak): the default table stays as narrow as before.
        bool weightColumn = outcomes.Any(o => o.Case.Deployment.WeightBits is not null);
        bool efficiencyColumn = outcomes.Any(o => !IsPeak(o.Case));
        var columns = new List<string> { "Model", "GPU", "TP", "KV bits" };
        var rightAligned = new List<int> { 2, 3 };
        if (weightColumn)
        {
            rightAligned.Add(columns.Count);
            columns.Add("W bits");
        }

        if (efficiencyColumn)
        {
            columns.Add("Efficiency");
        }

        rightAligned.AddRange([columns.Count, columns.Count + 1, columns.Count + 2, columns.Count + 5]);
        columns.AddRange(["Context", "Fit", Users ? "Users" : "Rate /s", "Binding limit", "SLO at the answer", "Goodput"]);
        if (targetUsers is not null)
        {
            columns.Add($"GPUs for {Units.Count(targetUsers.Value)}");
        }

        if (prices.Count > 0)
        {
            columns.Add(Users ? "$/user-h" : "$/conv");
        }

        columns.Add("Points");
        var table = ConsoleTable.Create([.. columns]).RightAlign([.. rightAligned]);
        var notes = new List<string>();
        foreach (var o in outcomes)
        {
            var row = new List<string>
            {
                o.Case.Model,
                o.Case.Gpu,
                o.Case.TensorParallel.ToString(CultureInfo.InvariantCulture),
                Number(KvBits(o)),
            };
            if (weightColumn)
            {
                row.Add(Number(WeightBits(o)));
            }

            if (efficiencyColumn)
            {
                row.Add(o.Case.EfficiencyName);
            }

            row.AddRange([Context(o.Case), Units.Count(o.MaxConcurrentUsers)]);
            if (o.Result is not { } r)
            {
                row.AddRange(["does not fit", "", "", ""]);
                notes.Add($"{o.Case.Model} on {o.Case.TensorParallel} x {o.Case.Gpu} at {Context(o.Case)}: {o.DoesNotFit}");
            }
            else
            {
                var binding = r.At.Binding;
                string answer = Load(r.Answer) + (r.StepLimitReached ? "+" : "");
                row.AddRange([
                    answer,
                    $"{Name(binding.Limit)} {binding.Utilisation:P0}",
                    string.Join(", ", plan.Search.Slos.Thresholds.Select(t => $"{t.Key} {Units.Seconds(r.At.Worst(t))}")) + (r.Answer == 0 ? $" ({r.At.Failure})" : ""),
                    $"{Units.Number(r.At.Goodput)} turns/s",
                ]);
            }

            if (targetUsers is not null)
            {
                row.Add(o.GpusFor(targetUsers.Value) is { } gpus ? Units.Count(gpus) : "-");
            }

            if (prices.Count > 0)
            {
                row.Add(Price(o) is { } price ? price.ToString("0.000", CultureInfo.InvariantCulture) : "-");
            }

            row.Add(o.Result is null ? "" : o.Result.Points.Count.ToString(CultureInfo.InvariantCulture));
            table.AddRow([.. row]);
        }

        ConsoleTable.Write(writer, table);
        if (outcomes.Any(o => o.Result?.StepLimitReached == true))
        {
            writer.WriteLine("+ the step limit ended the search first: the answer passed, the load above it was not bracketed to --precision.");
        }

        foreach (string note in notes)
        {
            writer.WriteLine($"does not fit: {note}");
        }

        long runs = outcomes.Sum(o => o.Result?.Points.Sum(p => p.Runs.Count) ?? 0);
        long events = outcomes.Sum(o => o.Result?.Points.Sum(p => p.Runs.Sum(r => r.Run.Events)) ?? 0);
        writer.WriteLine($"{outcomes.Count} deployments, {Units.Count(runs)} simulated runs, {Units.Count(events)} events and steps.");
    }

    public object ToJson() => new
    {
        Mode = plan.Search.Mode,
        Slo = plan.Search.Slos.ToString(),
        Seeds = plan.Search.Seeds.Count,
        plan.Workload.Turns,
        plan.Workload.TurnTokens,
        plan.Workload.ThinkTimeSeconds,
        plan.Workload.Conversation,
        plan.Workload.SharedPrefixTokens,
        plan.Workload.OutputTokens,
        OutputLengths = plan.Workload.OutputLengths?.Spec,
        plan.Workload.DurationSeconds,
        plan.Workload.WarmupSeconds,
        plan.Replicas,
        plan.Router,
        TargetUsers = targetUsers,
        Deployments = outcomes.Select(o => new
        {
            o.Case.Model,
            o.Case.Gpu,
            Tp = o.Case.TensorParallel,
            KvBits = KvBits(o),
            WeightBits = WeightBits(o),
            Efficiency = o.Case.EfficiencyName,
            o.Case.ContextTokens,
            ContextLengths = o.Case.ContextLengths?.Spec,
            o.MaxConcurrentUsers,
            o.DoesNotFit,
            Found = o.Result?.Answer,
            o.Result?.FailedAt,
            o.Result?.StepLimitReached,
            Binding = o.Result is null ? null : new { Limit = o.Result.At.Binding.Limit, o.Result.At.Binding.Utilisation },
            Utilisation = o.Result is null ? null : Utilisation(o.Result.At),
            SloAtAnswer = o.Result is null ? null : SloValues(o.Result.At),
            GoodputTurnsPerSecond = o.Result?.At.Goodput,
            o.GpusPerDeployment,
            GpusForTarget = targetUsers is null ? null : o.GpusFor(targetUsers.Value),
            Cost = Price(o),
            Points = o.Result?.Points.Select(p => new
            {
                p.Load,
                p.Passed,
                p.Failure,
                Slo = SloValues(p),
                Goodput = p.Goodput,
                Seeds = p.Runs.Count,
            }),
        }),
    };

    private Dictionary<string, double> SloValues(CapacityPoint point) =>
        plan.Search.Slos.Thresholds.ToDictionary(t => t.Key, point.Worst);

    private static Dictionary<string, double> Utilisation(CapacityPoint point) => new()
    {
        ["concurrency"] = point.Runs.Average(r => r.Run.ConcurrencyShare),
        ["hbmKvUsed"] = point.Runs.Average(r => r.Run.HbmKvUsed),
        ["prefilling"] = point.Runs.Average(r => r.Run.PrefillBusy),
        ["decoding"] = point.Runs.Average(r => r.Run.DecodeBusy),
        ["contextSwitching"] = point.Runs.Average(r => r.Run.SwapBusy),
    };

    private double? Price(CapacityOutcome o)
    {
        if (!prices.TryGetValue(o.Case.Gpu, out double price) || o.CostPerLoadHour(price) is not { } perHour)
        {
            return null;
        }

        // Rate mode prices a conversation: an hour of one conversation per second is 3,600 of them.
        return Users ? perHour : perHour / 3600;
    }

    private static double KvBits(CapacityOutcome o) => o.Case.Deployment.Compression.Bits ?? o.Case.Deployment.Model.KvBytesPerElement * 8;

    internal static double WeightBits(CapacityOutcome o) => o.Case.Deployment.WeightBytesPerParameter * 8;

    internal static bool IsPeak(CapacityCase c) => string.Equals(c.EfficiencyName, EfficiencyPresets.Peak, StringComparison.OrdinalIgnoreCase);

    private string Load(double value) => Users ? Units.Count((long)value) : Units.Number(value);

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    internal static string Name(BindingLimit limit) => limit switch
    {
        BindingLimit.Concurrency => "concurrency (HBM)",
        BindingLimit.Prefilling => "prefilling",
        BindingLimit.Decoding => "decoding",
        _ => "context switching",
    };

    /// <summary>The Context column: the count, or the spec the contexts were drawn from.</summary>
    internal static string Context(CapacityCase c) => c.ContextLengths?.Spec ?? Units.Count(c.ContextTokens);
}
