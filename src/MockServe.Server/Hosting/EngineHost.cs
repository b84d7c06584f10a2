using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Metrics;

namespace MockServe.Server.Hosting;

/// <summary>The one engine of this server, running in real time, the metrics it feeds, and the drain state.</summary>
public sealed partial class EngineHost : IDisposable
{
    private readonly object _drainGate = new();
    private readonly ILogger _logger;
    private TaskCompletionSource? _drained;
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
    }

    public Deployment Deployment { get; }

    public EngineLoop Engine { get; }

    public TimeProvider Time { get; }

    public ServerMetrics Metrics { get; }

    /// <summary>True once shutdown began: new requests are refused, streams in flight finish.</summary>
    public bool IsDraining { get; private set; }

    public int InFlight => Volatile.Read(ref _inFlight);

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

    public void Dispose() => Engine.Dispose();

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "engine fault {Count} (an observer threw; the engine went on)")]
    private static partial void LogFault(ILogger logger, long count, Exception exception);

    private void OnFault(Exception ex)
    {
        Metrics.CountEngineFault();
        // A faulty observer may throw on every token: log the 1st, 10th, 100th... so the log stays readable.
        long count = Engine?.Faults ?? 1;
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
