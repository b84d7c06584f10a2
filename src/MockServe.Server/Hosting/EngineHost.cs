using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Metrics;

namespace MockServe.Server.Hosting;

/// <summary>
/// The one engine of this server on a real-time clock, the metrics it feeds, and the drain state.
/// Engine events reach a request's stream through the <see cref="GenerateSink"/> carried in its tag.
/// </summary>
public sealed class EngineHost : IDisposable
{
    private readonly object _drainGate = new();
    private TaskCompletionSource? _drained;
    private int _inFlight;

    public EngineHost(Deployment deployment, EngineOptions engineOptions, double timeScale, TimeProvider time, ServerMetrics metrics)
    {
        Deployment = deployment;
        Metrics = metrics;
        Time = time;
        Clock = new RealTimeClock(time, timeScale);
        Engine = new InferenceEngine(deployment, engineOptions, Clock, new CompositeObserver(metrics, new StreamRouter()));
    }

    public Deployment Deployment { get; }

    public InferenceEngine Engine { get; }

    public RealTimeClock Clock { get; }

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

    public void Dispose() => Clock.Dispose();

    private sealed class StreamRouter : IEngineObserver
    {
        public void OnEvent(in EngineEvent e)
        {
            if (e.Request?.Tag is GenerateSink sink)
            {
                sink.OnEvent(e);
            }
        }

        public void OnStep(in StepSummary step)
        {
        }
    }
}
