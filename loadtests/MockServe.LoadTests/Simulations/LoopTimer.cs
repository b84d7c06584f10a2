using System.Threading.Tasks.Sources;

namespace MockServe.LoadTests.Simulations;

/// <summary>
/// The scheduling loop's timer: a reusable, allocation-free wait that ends at a due time or at <see cref="Wake"/>.
/// One waiter at a time (the loop). The continuation runs on the thread that ends the wait (the timer's, or the
/// waker's), so under a fake clock the loop runs inside the clock's advance, in order, deterministically.
/// Two timers take turns: the loop re-arms from inside a timer's callback, and FakeTimeProvider disables a one-shot
/// timer after its callback returns, undoing a Change made inside it; arming the other timer is safe on any clock.
/// </summary>
internal sealed class LoopTimer : IValueTaskSource, IDisposable
{
    private readonly ITimer _first;
    private readonly ITimer _second;
    private ManualResetValueTaskSourceCore<bool> _core;
    private int _waiting;
    private int _signaled;
    private int _inCallback = -1;
    private int _next;

    public LoopTimer(TimeProvider time)
    {
        _first = time.CreateTimer(static s => ((LoopTimer)s!).OnTick(0), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _second = time.CreateTimer(static s => ((LoopTimer)s!).OnTick(1), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Waits <paramref name="due"/>, or until <see cref="Wake"/>; null waits for a wake only. It may end early: re-check.</summary>
    public ValueTask WaitAsync(TimeSpan? due)
    {
        _core.Reset();
        Volatile.Write(ref _waiting, 1);
        if (Interlocked.Exchange(ref _signaled, 0) == 1)
        {
            Fire();
        }
        else
        {
            int which = Volatile.Read(ref _inCallback) switch
            {
                0 => 1,
                1 => 0,
                _ => _next,
            };
            _next = 1 - which;
            (which == 0 ? _first : _second).Change(due ?? Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        return new ValueTask(this, _core.Version);
    }

    /// <summary>Ends the current wait, or the next one if the loop is not waiting now.</summary>
    public void Wake()
    {
        Volatile.Write(ref _signaled, 1);
        if (Volatile.Read(ref _waiting) == 1 && Interlocked.Exchange(ref _signaled, 0) == 1)
        {
            Fire();
        }
    }

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
    }

    private void OnTick(int which)
    {
        Volatile.Write(ref _inCallback, which);
        try
        {
            Fire();
        }
        finally
        {
            Volatile.Write(ref _inCallback, -1);
        }
    }

    private void Fire()
    {
        if (Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            _core.SetResult(true);
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
