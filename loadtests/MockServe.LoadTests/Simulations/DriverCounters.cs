namespace MockServe.LoadTests.Simulations;

/// <summary>
/// Live counts of a running <see cref="LoadDriver"/>, for a progress display: safe to read from any thread at any
/// time (each value is read atomically; values read one after the other may be a few invocations apart).
/// </summary>
public sealed class DriverCounters
{
    internal int _step = -1;
    internal int _targetCopies;
    internal int _copiesRunning;
    internal int _inFlight;
    internal int _queued;
    internal long _started;
    internal long _completed;
    internal long _faulted;
    internal long _cancelled;
    internal long _dropped;
    internal long _queuedTotal;
    internal long _expired;

    /// <summary>The plan step running, -1 before the start.</summary>
    public int Step => Volatile.Read(ref _step);

    /// <summary>The copies closed steps ask for now.</summary>
    public int TargetCopies => Volatile.Read(ref _targetCopies);

    /// <summary>Closed copies alive now (a copy above the target lives on until its current invocation ends).</summary>
    public int CopiesRunning => Volatile.Read(ref _copiesRunning);

    /// <summary>Invocations holding a slot now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Invocations waiting for a slot now.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Invocations the scenario was called for so far.</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>Invocations that returned so far.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Invocations that threw so far.</summary>
    public long Faulted => Interlocked.Read(ref _faulted);

    /// <summary>Invocations cancelled by the driver so far.</summary>
    public long Cancelled => Interlocked.Read(ref _cancelled);

    /// <summary>Invocations dropped at the cap so far.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Invocations that have had to wait for a slot so far.</summary>
    public long QueuedTotal => Interlocked.Read(ref _queuedTotal);

    /// <summary>Queued invocations never run because the plan ended.</summary>
    public long Expired => Interlocked.Read(ref _expired);
}
