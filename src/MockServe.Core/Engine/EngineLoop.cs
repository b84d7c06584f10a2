using System.Collections.Concurrent;

using MockServe.Core.CostModel;
using MockServe.Core.Profiles;

namespace MockServe.Core.Engine;

/// <summary>
/// Runs an <see cref="InferenceEngine"/> in real time. One thread owns the engine and all its state; every call
/// from outside (submit, cancel, stop, close a session, snapshot) is a command in its inbox, stamped with the model
/// time at which it arrived. The thread runs the engine's own <see cref="VirtualClock"/> up to the model time the
/// <see cref="TimeProvider"/> reads, commands at their stamps among the engine's step ends, then sleeps until the
/// next step is due or a command arrives. So a step that starts at t ends at t + cost however late the thread
/// wakes, and a call that only reads (a snapshot for a metrics scrape) moves no token's time.
/// </summary>
/// <remarks>
/// One model second lasts <see cref="TimeScale"/> wall seconds (0.01 runs the modelled GPU 100 times faster than
/// life). Observers run on the loop's thread with no lock held; an exception from one is caught and reported to
/// the fault callback, and the engine goes on.
/// </remarks>
public sealed class EngineLoop : IRequestControl, IDisposable
{
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly VirtualClock _clock = new();
    private readonly InferenceEngine _engine;
    private readonly Action<Exception>? _onFault;
    private readonly ConcurrentQueue<Command> _inbox = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly ITimer _timer;
    private readonly Thread _thread;
    private long _faults;

    // The engine's queue lengths as the loop last saw them, for readers on other threads (a router): the engine's own
    // collections belong to the loop's thread.
    private volatile int _running;
    private volatile int _waiting;

    // 1 while the loop is going to sleep: only then does a post or the timer pay for signalling the event.
    private int _sleeping;

    // The due time the timer is set for; NaN once it has fired (an early fire must not leave the loop asleep).
    private double _armedDue = double.NaN;
    private volatile bool _stopping;
    private volatile bool _stopped;

    /// <param name="onFault">Told of each exception an observer (or, by a bug, the engine) threw; the loop went on.</param>
    public EngineLoop(
        Deployment deployment,
        EngineOptions options,
        TimeProvider time,
        double timeScale,
        IEngineObserver? observer = null,
        Action<Exception>? onFault = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (!(timeScale > 0) || double.IsInfinity(timeScale))
        {
            throw new ArgumentOutOfRangeException(nameof(timeScale), timeScale, "time scale must be a positive number");
        }

        _time = time;
        TimeScale = timeScale;
        _onFault = onFault;
        _engine = new InferenceEngine(deployment, options, _clock, observer) { OnObserverFault = Fault };
        _engine.Control = this;
        _timer = time.CreateTimer(static state => ((EngineLoop)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _start = time.GetTimestamp();
        _thread = new Thread(Run) { IsBackground = true, Name = "mockserve-engine" };
        _thread.Start();
    }

    public double TimeScale { get; }

    /// <summary>Model seconds since the loop started, read from the wall clock.</summary>
    public double Now => _time.GetElapsedTime(_start).TotalSeconds / TimeScale;

    public GpuCostModel CostModel => _engine.CostModel;

    public EngineOptions Options => _engine.Options;

    public RequestLimits Limits => _engine.Limits;

    /// <summary>Whether the engine reuses cached prompt blocks (<see cref="InferenceEngine.PrefixCaching"/>).</summary>
    public bool PrefixCaching => _engine.PrefixCaching;

    public string SchedulerName => _engine.SchedulerName;

    /// <summary>Requests in the running batch after the loop's last pass (its steps and commands so far); any thread may read it.</summary>
    public int Running => _running;

    /// <summary>Requests waiting for admission or swapped out after the loop's last pass; any thread may read it.</summary>
    public int Waiting => _waiting;

    /// <summary>Exceptions observers (or the engine) have thrown and the loop survived.</summary>
    public long Faults => Interlocked.Read(ref _faults);

    /// <summary>The wall-clock span that <paramref name="modelSeconds"/> of model time lasts.</summary>
    public TimeSpan ToWall(double modelSeconds) =>
        TimeSpan.FromTicks((long)Math.Ceiling(Math.Max(0, modelSeconds * TimeScale) * TimeSpan.TicksPerSecond));

    /// <summary>Queues one turn, with a handle whose reader streams its tokens, or refuses it with the reason.</summary>
    public Task<SubmitResult> SubmitAsync(InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Ask(
            engine => engine.Submit(request, streamEvents: true),
            () => SubmitResult.Refused(RejectReason.Stopped, null, "the engine has stopped: the server is shutting down"));
    }

    /// <summary>Cancels the request in flight with this id (the Abort RPC); false when there is none.</summary>
    public Task<bool> CancelAsync(string requestId) => Ask(engine => engine.Cancel(requestId), () => false);

    /// <summary>Cancels the session's turn in flight and frees its KV; false when the session is unknown.</summary>
    public Task<bool> CloseSessionAsync(string sessionId) => Ask(engine => engine.CloseSession(sessionId), () => false);

    /// <summary>The pools and queues at the model time the call arrived.</summary>
    /// <exception cref="ObjectDisposedException">The loop has stopped (the task faults with it).</exception>
    public Task<PoolSnapshot> SnapshotAsync() =>
        Ask<PoolSnapshot>(engine => engine.Snapshot(), () => throw new ObjectDisposedException(nameof(EngineLoop), "the engine has stopped"));

    void IRequestControl.Cancel(RequestHandle handle) => Post(new Command(Now, engine => engine.Cancel(handle.Sequence!), null));

    void IRequestControl.Stop(RequestHandle handle) => Post(new Command(Now, engine => engine.Stop(handle.Sequence!), null));

    /// <summary>Stops the loop: requests in flight end as cancelled (their readers complete), later calls are refused.</summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _wake.Set();
        _thread.Join();
        _timer.Dispose();
        _wake.Dispose();
    }

    /// <summary>Runs <paramref name="query"/> on the loop; once the loop has stopped, <paramref name="whenStopped"/> answers instead.</summary>
    private Task<T> Ask<T>(Func<InferenceEngine, T> query, Func<T> whenStopped)
    {
        var reply = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new Command(
            Now,
            engine =>
            {
                try
                {
                    reply.TrySetResult(query(engine));
                }
                catch (Exception ex)
                {
                    reply.TrySetException(ex);
                    throw;
                }
            },
            () =>
            {
                try
                {
                    reply.TrySetResult(whenStopped());
                }
                catch (Exception ex)
                {
                    reply.TrySetException(ex);
                }
            }));
        return reply.Task;
    }

    private void Post(Command command)
    {
        _inbox.Enqueue(command);
        if (_stopped)
        {
            // The loop has exited: nobody else will take it out of the inbox.
            Abandon();
            return;
        }

        Wake();
    }

    private void OnTimer()
    {
        Volatile.Write(ref _armedDue, double.NaN);
        Wake();
    }

    private void Wake()
    {
        // This compare-exchange (after the enqueue or the timer's write) and the loop's exchange (before its last
        // look at the inbox and the timer) are both full fences: either the loop sees the work, or this sees it
        // going to sleep and wakes it.
        if (Interlocked.CompareExchange(ref _sleeping, 0, 1) == 1)
        {
            _wake.Set();
        }
    }

    private void Run()
    {
        while (!_stopping)
        {
            while (_inbox.TryDequeue(out var command))
            {
                // A command never lands before what the loop has already run: model time only moves forward.
                var run = command.Run;
                _clock.Schedule(Math.Max(command.Stamp, _clock.Now), _ => run(_engine));
            }

            RunUntil(Now);
            _running = _engine.RunningCount;
            _waiting = _engine.WaitingCount;
            if (_clock.NextDue is { } nextDue)
            {
                TimeSpan delay = ToWall(nextDue - Now);
                if (delay <= TimeSpan.Zero)
                {
                    continue;
                }

                if (nextDue != Volatile.Read(ref _armedDue))
                {
                    Volatile.Write(ref _armedDue, nextDue);
                    _timer.Change(delay, Timeout.InfiniteTimeSpan);
                }
            }

            _wake.Reset();
            Interlocked.Exchange(ref _sleeping, 1);

            // Work may have come while the timer was set: a command, the timer firing (early), or the clock passing
            // the due time before the timer was set (it then fires a whole delay late).
            bool due = _clock.NextDue is { } next && (next <= Now || double.IsNaN(Volatile.Read(ref _armedDue)));
            if (!_inbox.IsEmpty || _stopping || due)
            {
                Volatile.Write(ref _sleeping, 0);
                continue;
            }

            _wake.Wait();
            Volatile.Write(ref _sleeping, 0);
        }

        _stopped = true;
        _engine.CancelAll();
        Abandon();
    }

    /// <summary>Runs the clock's callbacks due by <paramref name="until"/>, each at its own model time.</summary>
    private void RunUntil(double until)
    {
        while (_clock.NextDue is { } due && due <= until)
        {
            try
            {
                _clock.RunNext();
            }
            catch (Exception ex)
            {
                Fault(ex);
            }
        }

        _clock.RunUntil(until);
    }

    private void Abandon()
    {
        while (_inbox.TryDequeue(out var command))
        {
            command.Abandon?.Invoke();
        }
    }

    private void Fault(Exception ex)
    {
        Interlocked.Increment(ref _faults);
        _onFault?.Invoke(ex);
    }

    /// <summary>A call from outside, run on the loop at its stamp; <see cref="Abandon"/> answers it once the loop has stopped.</summary>
    private sealed record Command(double Stamp, Action<InferenceEngine> Run, Action? Abandon);
}
