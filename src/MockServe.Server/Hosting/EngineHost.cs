using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Metrics;

namespace MockServe.Server.Hosting;

/// <summary>An engine and the metrics it feeds: the server's own, or the throwaway pair that warms the code up.</summary>
public sealed record EngineLane(EngineLoop Engine, ServerMetrics Metrics);

/// <summary>
/// The one engine of this server, running in real time, the metrics it feeds, and the server's state: warming up,
/// ready, draining.
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
    private TaskCompletionSource? _drained;
    private EngineLane? _warmup;
    private bool _ready;
    private int _inFlight;

    public EngineHost(
        Deployment deployment,
        EngineOptions engineOptions,
        double timeScale,
        TimeProvider time,
        ServerMetrics metrics,
        ILogger<EngineHost>? logger = null)
    {
        Deployment = deployment;
        Metrics = metrics;
        Time = time;
        _logger = logger ?? NullLogger<EngineHost>.Instance;
        Engine = new EngineLoop(deployment, engineOptions, time, timeScale, metrics, OnFault);
        Main = new EngineLane(Engine, metrics);
    }

    public EngineLane Main { get; }

    public Deployment Deployment { get; }

    public EngineLoop Engine { get; }

    public TimeProvider Time { get; }

    public ServerMetrics Metrics { get; }

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

    /// <summary>The lane a call takes: the warm-up lane for a call marked <see cref="WarmupKey"/> during the warm-up, else the server's.</summary>
    public EngineLane LaneFor(Grpc.Core.Metadata headers) =>
        headers.GetValue(WarmupKey) is not null && Volatile.Read(ref _warmup) is { } warmup ? warmup : Main;

    /// <summary>
    /// Opens the warm-up lane: an engine like the served one, fast and with metrics on a registry nobody scrapes, so
    /// that calls through it run (and compile) every piece of code a real call runs without touching what is served.
    /// </summary>
    public EngineLane BeginWarmup()
    {
        var metrics = new ServerMetrics(ServerMetrics.CreateFactory(Prometheus.Metrics.NewCustomRegistry()), WarmupInfo);
        var lane = new EngineLane(new EngineLoop(Deployment, Engine.Options, TimeProvider.System, WarmupTimeScale, metrics), metrics);
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
        Engine.Dispose();
        _drainEnded.Dispose();
    }

    private ServerMetricsInfo WarmupInfo => new("", Deployment.Model.Id, Deployment.Gpu.Id, Deployment.TensorParallel, Engine.SchedulerName, WarmupTimeScale, 0, ExportVllmNames: true);

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "engine fault {Count} (an observer threw; the engine went on)")]
    private static partial void LogFault(ILogger logger, long count, Exception exception);

    private void OnFault(Exception ex)
    {
        Metrics.CountEngineFault();
        // A faulty observer may throw on every token: log the 1st, 10th, 100th... so the log stays readable.
        long count = Engine.Faults;
        if (IsPowerOfTen(count))
        {
            LogFault(_logger, count, ex);
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
