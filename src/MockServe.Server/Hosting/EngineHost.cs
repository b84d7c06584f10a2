using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using MockServe.Core.Cluster;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Metrics;

namespace MockServe.Server.Hosting;

/// <summary>
/// An engine and the metrics it feeds: one of the server's replicas (<paramref name="Replica"/> its index), or the
/// throwaway pair that warms the code up.
/// </summary>
public sealed record EngineLane(EngineLoop Engine, ServerMetrics Metrics, int Replica = 0);

/// <summary>
/// The engines of this server (one per replica, each its own GPU group), running in real time, the metrics they feed,
/// the router that places calls on them, and the server's state: warming up, ready, draining.
/// </summary>
public sealed partial class EngineHost : IDisposable
{
    /// <summary>Request metadata key that sends a call to the warm-up lane while the server warms up (ignored after).</summary>
    public const string WarmupKey = "x-mockserve-warmup";

    // The warm-up engine runs 1000 times faster than life: it exists to run the code, not to model anything.
    private const double WarmupTimeScale = 0.001;

    private readonly object _drainGate = new();
    private readonly CancellationTokenSource _drainEnded = new();
    private readonly ILogger _logger;
    private readonly EngineLane[] _replicas;
    private readonly ReplicaRouter? _router;
    private TaskCompletionSource? _drained;
    private EngineLane? _warmup;
    private bool _ready;
    private int _inFlight;

    /// <param name="replicaMetrics">One metrics set per replica: as many replicas as sets.</param>
    /// <param name="router">How calls are placed on more than one replica: a name of <see cref="Routers.Names"/>.</param>
    /// <exception cref="ArgumentException">No metrics, or an unknown router with more than one replica.</exception>
    public EngineHost(
        Deployment deployment,
        EngineOptions engineOptions,
        double timeScale,
        TimeProvider time,
        IReadOnlyList<ServerMetrics> replicaMetrics,
        string router = "round-robin",
        ILogger<EngineHost>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(engineOptions);
        ArgumentNullException.ThrowIfNull(replicaMetrics);
        if (replicaMetrics.Count == 0)
        {
            throw new ArgumentException("a server needs at least one replica", nameof(replicaMetrics));
        }

        Deployment = deployment;
        Time = time;
        _logger = logger ?? NullLogger<EngineHost>.Instance;
        var lanes = new EngineLane[replicaMetrics.Count];
        for (int i = 0; i < lanes.Length; i++)
        {
            int index = i;
            // The callback runs on the engine's thread, which faults only while serving requests: after the lanes exist.
            var engine = new EngineLoop(deployment, engineOptions, time, timeScale, replicaMetrics[i], ex => OnFault(lanes[index], ex));
            lanes[i] = new EngineLane(engine, replicaMetrics[i], i);
        }

        _replicas = lanes;
        if (lanes.Length > 1)
        {
            var chosen = Routers.Create(router) ?? throw new ArgumentException($"unknown router '{router}', expected one of {string.Join(", ", Routers.Names)}", nameof(router));
            _router = new ReplicaRouter(chosen, [.. lanes.Select(l => l.Engine)], engineOptions.MaxSessions);
        }
    }

    /// <summary>The replicas, in index order; one unless Server:Replicas says more.</summary>
    public IReadOnlyList<EngineLane> Replicas => _replicas;

    /// <summary>The router's name; empty with one replica, which needs none.</summary>
    public string RouterName => _router?.Name ?? "";

    public Deployment Deployment { get; }

    /// <summary>Model seconds since the engines started: every replica's clock runs at one scale from the same start, give or take the microseconds between their starts.</summary>
    public double Now => _replicas[0].Engine.Now;

    public TimeProvider Time { get; }

    /// <summary>True once the warm-up has run: readiness reports SERVING (until draining).</summary>
    public bool IsReady => Volatile.Read(ref _ready);

    /// <summary>True when the warm-up calls all went through, so the first real request finds its code compiled.</summary>
    public bool IsWarm { get; private set; }

    /// <summary>True once shutdown began: new requests are refused, streams in flight finish.</summary>
    public bool IsDraining { get; private set; }

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Cancelled when the drain's time is up: every stream still open then ends with UNAVAILABLE.</summary>
    public CancellationToken DrainEnded => _drainEnded.Token;

    public void StreamStarted() => Interlocked.Increment(ref _inFlight);

    public void StreamEnded()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            lock (_drainGate)
            {
                _drained?.TrySetResult();
            }
        }
    }

    /// <summary>Refuses new requests and completes when the streams in flight have ended.</summary>
    public Task BeginDrain()
    {
        lock (_drainGate)
        {
            IsDraining = true;
            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (InFlight == 0)
            {
                _drained.TrySetResult();
            }

            return _drained.Task;
        }
    }

    /// <summary>Ends the drain's grace: the streams still open end now, each with the tokens it had sent.</summary>
    public void EndDrain() => _drainEnded.Cancel();

    /// <summary>The warm-up lane for a call marked <see cref="WarmupKey"/> during the warm-up; else null, for a served call.</summary>
    public EngineLane? WarmupLaneFor(Grpc.Core.Metadata headers) =>
        headers.GetValue(WarmupKey) is not null && Volatile.Read(ref _warmup) is { } warmup ? warmup : null;

    /// <summary>True for the warm-up lane: a lane that no client's call reaches.</summary>
    public bool IsWarmup(EngineLane lane) => !ReferenceEquals(lane, _replicas[lane.Replica]);

    /// <summary>
    /// The replica that serves a call: the router's choice by <paramref name="key"/> (the call's session id, or its
    /// request id when it has none); the one replica when there is one.
    /// </summary>
    public EngineLane Route(string key) => _router is null ? _replicas[0] : _replicas[_router.Route(key)];

    /// <summary>
    /// Tells the host that <paramref name="lane"/> accepted a turn of the session: when the session came from another
    /// replica, that replica closes it (its KV of the session would never be used again), without waiting.
    /// </summary>
    public void Placed(EngineLane lane, string sessionId, long promptTokens)
    {
        ArgumentNullException.ThrowIfNull(lane);
        if (_router?.Placed(sessionId, lane.Replica, promptTokens) is int left and >= 0)
        {
            // Fire and forget: the loop answers false for a session it no longer knows, and never faults the task.
            _ = _replicas[left].Engine.CloseSessionAsync(sessionId);
        }
    }

    /// <summary>Cancels the request in flight with this id on whichever replica has it; false when none has.</summary>
    public async Task<bool> CancelAsync(string requestId)
    {
        bool[] found = await Task.WhenAll(_replicas.Select(r => r.Engine.CancelAsync(requestId)));
        return found.Contains(true);
    }

    /// <summary>Closes the session on every replica that knows it, freeing its KV; false when none did.</summary>
    public async Task<bool> CloseSessionAsync(string sessionId)
    {
        _router?.Forget(sessionId);
        bool[] found = await Task.WhenAll(_replicas.Select(r => r.Engine.CloseSessionAsync(sessionId)));
        return found.Contains(true);
    }

    /// <summary>
    /// Opens the warm-up lane: an engine like the served one, fast and with metrics on a registry nobody scrapes, so
    /// that calls through it run (and compile) every piece of code a real call runs without touching what is served.
    /// </summary>
    public EngineLane BeginWarmup()
    {
        var metrics = new ServerMetrics(ServerMetrics.CreateFactory(Prometheus.Metrics.NewCustomRegistry()), WarmupInfo);
        var lane = new EngineLane(new EngineLoop(Deployment, _replicas[0].Engine.Options, TimeProvider.System, WarmupTimeScale, metrics), metrics);
        Volatile.Write(ref _warmup, lane);
        return lane;
    }

    /// <summary>Closes the warm-up lane and reports ready.</summary>
    /// <param name="warmedUp">Whether the warm-up calls all succeeded.</param>
    public void EndWarmup(bool warmedUp)
    {
        Interlocked.Exchange(ref _warmup, null)?.Engine.Dispose();
        IsWarm = warmedUp;
        Volatile.Write(ref _ready, true);
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _warmup, null)?.Engine.Dispose();
        foreach (var replica in _replicas)
        {
            replica.Engine.Dispose();
        }

        _drainEnded.Dispose();
    }

    private ServerMetricsInfo WarmupInfo => new("", Deployment.Model.Id, Deployment.Gpu.Id, Deployment.TensorParallel, _replicas[0].Engine.SchedulerName, WarmupTimeScale, 0, ExportVllmNames: true);

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "engine fault {Count} of replica {Replica} (an observer threw; the engine went on)")]
    private static partial void LogFault(ILogger logger, long count, int replica, Exception exception);

    private void OnFault(EngineLane lane, Exception ex)
    {
        lane.Metrics.CountEngineFault();
        // A faulty observer may throw on every token: log the 1st, 10th, 100th... so the log stays readable.
        long count = lane.Engine.Faults;
        if (IsPowerOfTen(count))
        {
            LogFault(_logger, count, lane.Replica, ex);
        }
    }

    private static bool IsPowerOfTen(long n)
    {
        while (n >= 10 && n % 10 == 0)
        {
            n /= 10;
        }

        return n == 1;
    }
}
