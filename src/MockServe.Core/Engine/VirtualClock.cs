namespace MockServe.Core.Engine;

/// <summary>
/// A discrete-event clock: model time jumps from one scheduled callback to the next as fast as the CPU allows.
/// Callbacks due at the same time run in the order they were scheduled, so a run is reproducible.
/// Single-threaded: schedule and run from one thread.
/// </summary>
public sealed class VirtualClock
{
    private readonly PriorityQueue<Action<double>, (double At, long Seq)> _queue = new();
    private long _seq;

    public double Now { get; private set; }

    /// <summary>Callbacks waiting to run.</summary>
    public int Pending => _queue.Count;

    /// <summary>The due time of the next callback, or null when none is waiting.</summary>
    public double? NextDue => _queue.TryPeek(out _, out var key) ? key.At : null;

    public void Schedule(double at, Action<double> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (double.IsNaN(at))
        {
            throw new ArgumentOutOfRangeException(nameof(at), "due time is NaN");
        }

        _queue.Enqueue(callback, (Math.Max(at, Now), _seq++));
    }

    /// <summary>Runs callbacks due at or before <paramref name="until"/>, then sets the time to it.</summary>
    public void RunUntil(double until)
    {
        while (_queue.TryPeek(out _, out var key) && key.At <= until)
        {
            RunNext();
        }

        Now = Math.Max(Now, until);
    }

    /// <summary>Runs callbacks until none is left, or <paramref name="maxCallbacks"/> have run.</summary>
    /// <returns>True when the queue emptied.</returns>
    public bool RunUntilIdle(long maxCallbacks = long.MaxValue)
    {
        for (long i = 0; i < maxCallbacks; i++)
        {
            if (!RunNext())
            {
                return true;
            }
        }

        return _queue.Count == 0;
    }

    /// <summary>Runs the earliest callback.</summary>
    /// <returns>False when nothing was waiting.</returns>
    public bool RunNext()
    {
        if (!_queue.TryDequeue(out var callback, out var key))
        {
            return false;
        }

        Now = key.At;
        callback(key.At);
        return true;
    }
}
