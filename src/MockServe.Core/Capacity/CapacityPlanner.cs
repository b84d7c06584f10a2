using MockServe.Core.CostModel;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Core.Simulation;
using MockServe.Core.Workload;

namespace MockServe.Core.Capacity;

/// <summary>
/// One deployment of the grid at one first-turn context: a fixed count, or a distribution each conversation's
/// context is drawn from, with <see cref="ContextTokens"/> then its median (<see cref="LengthMedian"/>).
/// </summary>
public sealed record CapacityCase(Deployment Deployment, long ContextTokens)
{
    /// <summary>When set, contexts are drawn from it and <see cref="ContextTokens"/> is its median, for the users that fit.</summary>
    public ILengthDistribution? ContextLengths { get; init; }

    /// <summary>
    /// The efficiency set's name as the user gave it (<c>peak</c>, <c>realistic</c> or a file), for reports; the values
    /// themselves are the deployment's <see cref="Deployment.Efficiency"/>.
    /// </summary>
    public string EfficiencyName { get; init; } = EfficiencyPresets.Peak;

    public string Model => Deployment.Model.Id;

    public string Gpu => Deployment.Gpu.Id;

    public int TensorParallel => Deployment.TensorParallel;
}

/// <summary>What a grid search runs: the same workload, engine, cluster shape and search on every case.</summary>
public sealed record CapacityPlan
{
    public required IReadOnlyList<CapacityCase> Cases { get; init; }

    public EngineOptions Engine { get; init; } = new();

    /// <summary>The workload of every run but its context (each case's), users or rate, and seed.</summary>
    public required WorkloadOptions Workload { get; init; }

    /// <summary>The search; its start is set per case from the cost model.</summary>
    public required CapacitySearchOptions Search { get; init; }

    public int Replicas { get; init; } = 1;

    public string? Router { get; init; }

    /// <summary>Cases searched at once; the results do not depend on it.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;
}

/// <summary>A case's answer, or why it could not be searched.</summary>
public sealed record CapacityOutcome(CapacityCase Case, int Replicas, long MaxConcurrentUsers, CapacitySearchResult? Result, string? DoesNotFit)
{
    /// <summary>GPUs one deployment takes: the tensor-parallel group times the replicas.</summary>
    public int GpusPerDeployment => Case.TensorParallel * Replicas;

    /// <summary>GPUs for <paramref name="targetUsers"/> users: whole deployments of the users found; null when none are served.</summary>
    public long? GpusFor(long targetUsers) => Result is { Answer: > 0 } r
        ? (long)Math.Ceiling(targetUsers / Math.Floor(r.Answer)) * GpusPerDeployment
        : null;

    /// <summary>
    /// The GPU hours one user (or, in rate mode, one conversation per second) takes per hour: price x GPUs / load.
    /// </summary>
    public double? CostPerLoadHour(double pricePerGpuHour) => Result is { Answer: > 0 } r
        ? pricePerGpuHour * GpusPerDeployment / r.Answer
        : null;
}

/// <summary>Searches every case of a plan in parallel; the outcomes come back in the cases' order.</summary>
public static class CapacityPlanner
{
    public static async Task<IReadOnlyList<CapacityOutcome>> RunAsync(CapacityPlan plan, Action<CapacityOutcome>? finished = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var outcomes = new CapacityOutcome[plan.Cases.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, plan.Parallelism), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, plan.Cases.Count), parallel, (i, _) =>
        {
            outcomes[i] = Search(plan, plan.Cases[i]);
            finished?.Invoke(outcomes[i]);
            return ValueTask.CompletedTask;
        }).ConfigureAwait(false);
        return outcomes;
    }

    /// <summary>One case: checked to fit, then searched from the users that fit (or the rate they would bring).</summary>
    public static CapacityOutcome Search(CapacityPlan plan, CapacityCase @case)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(@case);
        var workload = plan.Workload with { ContextTokens = @case.ContextTokens, ContextLengths = @case.ContextLengths };
        long fit = new GpuCostModel(@case.Deployment).MaxConcurrentUsers(@case.ContextTokens) * plan.Replicas;
        if (DoesNotFit(@case.Deployment, plan, workload) is { } reason)
        {
            return new CapacityOutcome(@case, plan.Replicas, fit, null, reason);
        }

        var simulator = new EngineCapacitySimulator(@case.Deployment, plan.Replicas, plan.Router, plan.Engine, workload, plan.Search.Mode, plan.Search.Slos);
        var search = plan.Search with { Start = Start(plan.Search, workload, fit) };
        return new CapacityOutcome(@case, plan.Replicas, fit, CapacitySearch.Run(simulator, search), null);
    }

    /// <summary>
    /// Where the search starts. Users: the users whose contexts fit in HBM at once, where concurrency starts to
    /// bind; the search doubles or halves from there. Rate: the conversations per second that many closed-loop users
    /// would start if each conversation took its turns' think time plus a second per turn, a rough guess that
    /// doubling or halving corrects.
    /// </summary>
    internal static double Start(CapacitySearchOptions search, WorkloadOptions workload, long fit)
    {
        double users = Math.Max(1, fit);
        return search.Mode == CapacityMode.Users
            ? users
            : Math.Max(search.Min, users / (workload.Turns * (workload.ThinkTimeSeconds + 1)));
    }

    /// <summary>The simulator's own refusal of a context that one user cannot hold, or null.</summary>
    private static string? DoesNotFit(Deployment deployment, CapacityPlan plan, WorkloadOptions workload)
    {
        try
        {
            _ = new SimulationRunner(deployment, plan.Engine, workload with { Users = 1, ArrivalRate = 0 });
            return null;
        }
        catch (ArgumentException ex)
        {
            // The runner names its flags; the reason reads without the parameter name .NET appends.
            return ex.Message.Split(" (Parameter", 2)[0];
        }
    }
}
