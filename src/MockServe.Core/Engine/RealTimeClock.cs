namespace MockServe.Core.Engine;

/// <summary>
/// Model time tied to wall time through a <see cref="TimeProvider"/>: one model second lasts
/// <see cref="TimeScale"/> wall seconds (0.01 runs the modelled GPU 100 times faster than life).
/// Callbacks run on timer threads with their due model time, not the (slightly later) wall time, so that
/// a late timer does not stretch the modelled schedule.
/// </summary>
public sealed class RealTimeClock : IEngineClock, IDisposable
{
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly HashSet<ITimer> _timers = [];
    private bool _disposed;

    public RealTimeClock(TimeProvider time, double timeScale)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (!(timeScale > 0) || double.IsInfinity(timeScale))
        {
            throw new ArgumentOutOfRangeException(nameof(timeScale), timeScale, "time scale must be a positive number");
        }

        _time = time;
        TimeScale = timeScale;
        _start = time.GetTimestamp();
    }

    public double TimeScale { get; }

    public double Now => _time.GetElapsedTime(_start).TotalSeconds / TimeScale;

    /// <summary>The wall-clock span that <paramref name="modelSeconds"/> of model time lasts.</summary>
    public TimeSpan ToWall(double modelSeconds) => TimeSpan.FromSeconds(Math.Max(0, modelSeconds * TimeScale));

    public void Schedule(double at, Action<double> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        TimeSpan delay = ToWall(at - Now);
        lock (_timers)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ITimer? timer = null;
            timer = _time.CreateTimer(
                _ =>
                {
                    lock (_timers)
                    {
                        if (_disposed || !_timers.Remove(timer!))
                        {
                            return;
                        }

                        timer!.Dispose();
                    }

                    callback(at);
                },
                null,
                Timeout.InfiniteTimeSpan,
                Timeout.InfiniteTimeSpan);
            _timers.Add(timer);
            timer.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_timers)
        {
            _disposed = true;
            foreach (var timer in _timers)
            {
                timer.Dispose();
            }

            _timers.Clear();
        }
    }
}
