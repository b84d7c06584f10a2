using MockServe.Core.Cluster;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Core.Simulation;

namespace MockServe.Core.Capacity;

/// <summary>
/// The capacity search's simulator: a <see cref="SimulationRunner"/> on the virtual clock per run, with the load as
/// the workload's users or arrival rate and the seed as its seed; a fresh router per run, as routers keep state.
/// </summary>
public sealed class EngineCapacitySimulator : ICapacitySimulator
{
    private readonly IReadOnlyList<Deployment> _replicas;
    private readonly EngineOptions _engineOptions;
    private readonly WorkloadOptions _workload;
    private readonly CapacityMode _mode;
    private readonly SloSet _slos;
    private readonly string? _router;

    /// <param name="workload">Everything but the users (or rate) and the seed, which each run sets.</param>
    /// <param name="router">A name of <see cref="Routers.Names"/>; needed for more than one replica.</param>
    public EngineCapacitySimulator(Deployment deployment, int replicas, string? router, EngineOptions engineOptions, WorkloadOptions workload, CapacityMode mode, SloSet slos)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (replicas > 1 && (router is null || Routers.Create(router) is null))
        {
            throw new ArgumentException($"--router: '{router}' is not one of {string.Join(", ", Routers.Names)}", nameof(router));
        }

        _replicas = [.. Enumerable.Repeat(deployment, Math.Max(1, replicas))];
        _engineOptions = engineOptions;
        _workload = workload;
        _mode = mode;
        _slos = slos;
        _router = router;
    }

    public CapacityRun Run(double load, int seed)
    {
        var workload = _mode == CapacityMode.Users
            ? _workload with { Users = (int)load, ArrivalRate = 0, Seed = seed }
            : _workload with { ArrivalRate = load, Seed = seed };
        var router = _replicas.Count > 1 ? Routers.Create(_router!) : null;
        long good = 0;
        var runner = new SimulationRunner(_replicas, _engineOptions, workload, router)
        {
            TurnMeasured = turn =>
            {
                if (_slos.IsMetBy(turn))
                {
                    good++;
                }
            },
        };
        var report = runner.Run();
        return new CapacityRun
        {
            Ttft = report.TtftSeconds,
            Itl = report.ItlSeconds,
            E2e = report.E2eSeconds,
            MeasuredTurns = report.RequestsCompleted,
            StrandedTurns = report.RequestsInFlight + report.RequestsRejected,
            GoodTurns = good,
            MeasuredSeconds = workload.DurationSeconds - workload.WarmupSeconds,
            HbmKvUsed = report.HbmKvUsed,
            ConcurrencyShare = Math.Min(1, report.HbmKvUsed + (1.0 / Math.Max(1, report.MaxConcurrentUsers))),
            PrefillBusy = report.GpuBusy["prefill"],
            DecodeBusy = report.GpuBusy["decode"],
            SwapBusy = report.GpuBusy["swap"],
            MaxConcurrentUsers = report.MaxConcurrentUsers,
            Events = report.Events + report.Steps,
        };
    }
}
