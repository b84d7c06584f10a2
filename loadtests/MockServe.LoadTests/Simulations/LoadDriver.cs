using System.Runtime.CompilerServices;

namespace MockServe.LoadTests.Simulations;

/// <summary>
/// Runs a <see cref="LoadPlan"/> against a scenario callback on an injected clock. One scheduling loop with one
/// timer walks the plan: in open steps it starts each invocation at its intended time (late ones at once, their
/// lateness recorded), never waiting for completions; in closed steps it sets the target copies, and each copy loops
/// the callback, stopping after its current invocation when the target drops below its number. A cap on
/// invocations in flight queues or drops what is due beyond it. At the plan's end nothing new starts, queued
/// invocations expire, and those in flight get <see cref="DriverOptions.Grace"/> before they are cancelled.
/// A driver runs once.
/// </summary>
public sealed class LoadDriver
{
    private readonly LoadPlan _plan;
    private readonly DriverOptions _options;
    private readonly TimeProvider _time;
    private readonly int _maxInFlight;

    // _gate guards the slots and the queue; no user code runs under it.
    private readonly Lock _gate = new();
    private readonly Queue<Pending> _queue = new();
    private int _inFlight;
    private int _peakInFlight;
    private bool _ending;

    private readonly int[] _copyRunning;
    private int _target;
    private int _startedUpTo;
    private int _peakCopies;

    // IterationsForConstant: the budget copies claim from, and the completions that end the step.
    private volatile bool _budgetActive;
    private long _budget;
    private int _iterationStep = -1;
    private long _iterationsDone;
    private long _iterationsTarget;

    private readonly CancellationTokenSource _invocationCts = new();
    private readonly CancellationTokenSource _stopCts = new();
    private readonly CancellationTokenSource _planEndedCts = new();
    private long _observerFaults;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _outstanding;
    private long _drainedAtTicks = -1;
    private long _start;
    private long _nextNumber;
    private long _nextOpenCopy;
    private long _queueWaitTicks;
    private long _maxQueueWaitTicks;
    private long _maxLatenessTicks = long.MinValue;
    private int _runs;
    private LoopTimer? _timer;
    private Func<Invocation, CancellationToken, Task> _invoke = static (_, _) => Task.CompletedTask;

    public LoadDriver(LoadPlan plan, DriverOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        _plan = plan;
        _options = options;
        _time = time;
        _maxInFlight = options.MaxInFlight;
        _copyRunning = new int[plan.MaxCopies];
    }

    /// <summary>Live counts for a progress display.</summary>
    public DriverCounters Counters { get; } = new();

    /// <summary>
    /// Raised on the scheduling loop as each step starts, with the step and its start offset. Keep it short: the
    /// schedule waits for it. A handler that throws is counted (<see cref="DriverSummary.ObserverFaults"/>) and the run
    /// goes on. A sweep judges the step before here and calls <see cref="Stop"/> when it broke.
    /// </summary>
    public event Action<PlanStep, TimeSpan>? StepStarted;

    /// <summary>
    /// Ends the plan now, from any thread: nothing new starts, queued invocations expire, and those in flight get the
    /// grace period as at a normal end. Called from <see cref="StepStarted"/>, the starting step does not run.
    /// </summary>
    public void Stop() => _stopCts.Cancel();

    /// <summary>
    /// Cancelled when the plan is over (or the run stopped): invocations still running may finish within the grace
    /// period, but a step should start nothing new, e.g. a user's next turn after a think.
    /// </summary>
    public CancellationToken PlanEnded => _planEndedCts.Token;

    /// <summary>
    /// Runs the plan, calling <paramref name="invoke"/> for every invocation with a token the driver cancels after the
    /// grace period. An exception from the callback is counted as a fault and the run goes on. Cancelling
    /// <paramref name="ct"/> ends the run early: nothing new starts and in-flight invocations are cancelled at once;
    /// the summary says <see cref="DriverSummary.Aborted"/>.
    /// </summary>
    /// <param name="invoke">The scenario's step.</param>
    /// <param name="ct">Aborts the run.</param>
    /// <param name="origin">
    /// The run's start on the driver's clock (a <see cref="TimeProvider.GetTimestamp"/>), when several drivers and their
    /// scenarios share one: every offset (intended and actual starts) counts from it. Default: now.
    /// </param>
    public async Task<DriverSummary> RunAsync(Func<Invocation, CancellationToken, Task> invoke, CancellationToken ct, long? origin = null)
    {
        ArgumentNullException.ThrowIfNull(invoke);
        if (Interlocked.Exchange(ref _runs, 1) != 0)
        {
            throw new InvalidOperationException("A LoadDriver runs once; make another one for another run.");
        }

        _invoke = invoke;
        using var timer = new LoopTimer(_time);
        _timer = timer;
        // The loop ends early on the caller's token (an abort: no grace) or on Stop (an early end: with grace).
        using var cut = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopCts.Token);
        var loopToken = cut.Token;
        using var wake = loopToken.UnsafeRegister(static s => ((LoopTimer)s!).Wake(), timer);
        _start = origin ?? _time.GetTimestamp();

        var stepStart = TimeSpan.Zero;
        foreach (var step in _plan.Steps)
        {
            OnStepStarted(step, stepStart);
            if (loopToken.IsCancellationRequested)
            {
                break;
            }

            stepStart = await RunStepAsync(step, stepStart, loopToken).ConfigureAwait(false);
        }

        bool endedEarly = loopToken.IsCancellationRequested;
        bool aborted = endedEarly && ct.IsCancellationRequested;
        var planEnd = endedEarly ? Elapsed() : stepStart;
        End();

        bool drained = _drained.Task.IsCompleted;
        if (!drained && !aborted && _options.Grace > TimeSpan.Zero)
        {
            drained = await WaitDrainedAsync(_options.Grace, ct).ConfigureAwait(false);
        }

        if (!drained)
        {
            CancelInvocations();
            drained = await WaitDrainedAsync(_options.CancelWait, CancellationToken.None).ConfigureAwait(false);
        }

        return new DriverSummary(
            Counters.Started,
            Counters.Completed,
            Counters.Faulted,
            Counters.Cancelled,
            Counters.Dropped,
            Counters.QueuedTotal,
            Counters.Expired,
            drained ? 0 : Interlocked.Read(ref _outstanding),
            TimeSpan.FromTicks(Interlocked.Read(ref _queueWaitTicks)),
            TimeSpan.FromTicks(Interlocked.Read(ref _maxQueueWaitTicks)),
            Counters.Started == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Interlocked.Read(ref _maxLatenessTicks)),
            Volatile.Read(ref _peakInFlight),
            Volatile.Read(ref _peakCopies),
            planEnd,
            drained ? TimeSpan.FromTicks(Interlocked.Read(ref _drainedAtTicks)) : Elapsed(),
            aborted,
            Stopped: endedEarly && !aborted,
            Interlocked.Read(ref _observerFaults));
    }

    private TimeSpan Elapsed() => _time.GetElapsedTime(_start);

    private void OnStepStarted(PlanStep step, TimeSpan start)
    {
        try
        {
            StepStarted?.Invoke(step, start);
        }
#pragma warning disable CA1031 // An observer that throws is isolated and counted; it must not stop the schedule.
        catch (Exception)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _observerFaults);
        }
    }

    /// <summary>Runs one step from <paramref name="stepStart"/>; returns where the next one starts.</summary>
    private async Task<TimeSpan> RunStepAsync(PlanStep step, TimeSpan stepStart, CancellationToken ct)
    {
        if (step.Model == LoadModel.Closed && step.Duration is null)
        {
            return await RunIterationsAsync(step, ct).ConfigureAwait(false);
        }

        Volatile.Write(ref Counters._step, step.Index);
        var end = stepStart + step.Duration!.Value;
        if (step.Model == LoadModel.Open)
        {
            SetTarget(0, fromZero: false);
            foreach (var offset in step.Starts())
            {
                var due = stepStart + offset;
                if (!await WaitUntilAsync(due, ct).ConfigureAwait(false))
                {
                    return end;
                }

                Arrive(step.Index, due);
            }
        }
        else if (step.Model == LoadModel.Closed)
        {
            // A fresh closed step restarts any copy that stopped (in a pause, an open step, or out of iterations).
            SetTarget(step.CopiesAt(TimeSpan.Zero), fromZero: true);
            var since = TimeSpan.Zero;
            while (step.NextCopiesChange(since) is { } next && next < step.Duration.Value)
            {
                if (!await WaitUntilAsync(stepStart + next, ct).ConfigureAwait(false))
                {
                    return end;
                }

                since = next;
                SetTarget(step.CopiesAt(since), fromZero: false);
            }
        }
        else
        {
            SetTarget(0, fromZero: false);
        }

        await WaitUntilAsync(end, ct).ConfigureAwait(false);
        return end;
    }

    private async Task<TimeSpan> RunIterationsAsync(PlanStep step, CancellationToken ct)
    {
        long iterations = step.Iterations!.Value;
        Interlocked.Exchange(ref _budget, iterations);
        Interlocked.Exchange(ref _iterationsDone, 0);
        Interlocked.Exchange(ref _iterationsTarget, iterations);
        Volatile.Write(ref _iterationStep, step.Index);
        _budgetActive = true;
        // Published after the budget: a copy that sees this step sees its budget.
        Volatile.Write(ref Counters._step, step.Index);
        SetTarget(step.CopiesAt(TimeSpan.Zero), fromZero: true);
        while (Interlocked.Read(ref _iterationsDone) < iterations && !ct.IsCancellationRequested)
        {
            await _timer!.WaitAsync(null).ConfigureAwait(false);
        }

        // The target drops before the budget goes: a copy that sees the budget gone (it reads the flag first) also
        // sees no target, so it cannot run on unbudgeted until the next step sets one.
        SetTarget(0, fromZero: false);
        _budgetActive = false;
        Volatile.Write(ref _iterationStep, -1);
        return Elapsed();
    }

    /// <summary>Waits until <paramref name="due"/> from the run's start; false when <paramref name="ct"/> ended the run.</summary>
    // Pooled: a plain async ValueTask method allocates a box each time it waits, and this runs once per start.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitUntilAsync(TimeSpan due, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            // Timers keep whole milliseconds and fire up to about one late: what is due within the next millisecond
            // starts now (its lateness reads slightly negative) rather than a millisecond or two late, and a wait is
            // never shorter than a millisecond, so the loop cannot spin. Measured with the system clock (2,000 starts/s,
            // 1,000 in flight, 2 shared cores): lateness p50 1.0 ms, p99 3.5 ms; rounding the wait up gave 2.0 and 4.6.
            var left = due - Elapsed();
            if (left < TimeSpan.FromMilliseconds(1))
            {
                return true;
            }

            await _timer!.WaitAsync(TimeSpan.FromMilliseconds(left.Ticks / TimeSpan.TicksPerMillisecond)).ConfigureAwait(false);
        }

        return false;
    }

    private void Arrive(int step, TimeSpan intended)
    {
        long number = Interlocked.Increment(ref _nextNumber) - 1;
        long copy = _nextOpenCopy++;
        bool start = false;
        lock (_gate)
        {
            if (_inFlight < _maxInFlight)
            {
                TakeSlot();
                start = true;
            }
            else if (_options.Overflow == OverflowPolicy.Queue)
            {
                _queue.Enqueue(new Pending(step, copy, number, intended, _time.GetTimestamp(), null));
                Counters._queued = _queue.Count;
                Interlocked.Increment(ref Counters._queuedTotal);
            }
        }

        if (start)
        {
            Launch(new Invocation(step, copy, number, intended, default, TimeSpan.Zero));
        }
        else if (_options.Overflow == OverflowPolicy.Drop)
        {
            Interlocked.Increment(ref Counters._dropped);
        }
    }

    // Under _gate.
    private void TakeSlot()
    {
        _inFlight++;
        if (_inFlight > _peakInFlight)
        {
            Volatile.Write(ref _peakInFlight, _inFlight);
        }

        Volatile.Write(ref Counters._inFlight, _inFlight);
    }

    /// <summary>Frees a slot, or hands it straight to the longest-waiting queued invocation.</summary>
    private void Release()
    {
        Pending next;
        bool handOver;
        lock (_gate)
        {
            handOver = _queue.TryDequeue(out next);
            if (handOver)
            {
                Counters._queued = _queue.Count;
            }
            else
            {
                _inFlight--;
                Volatile.Write(ref Counters._inFlight, _inFlight);
            }
        }

        if (!handOver)
        {
            return;
        }

        var wait = _time.GetElapsedTime(next.EnqueuedAt);
        RecordQueueWait(wait);
        if (next.Waiter is { } waiter)
        {
            waiter.SetResult(wait);
        }
        else
        {
            Launch(new Invocation(next.Step, next.Copy, next.Number, next.Intended, default, wait));
        }
    }

    private void RecordQueueWait(TimeSpan wait)
    {
        Interlocked.Add(ref _queueWaitTicks, wait.Ticks);
        Max(ref _maxQueueWaitTicks, wait.Ticks);
    }

    private void Launch(Invocation invocation)
    {
        Interlocked.Increment(ref _outstanding);
        if (_options.StartInline)
        {
            _ = RunOpenAsync(invocation);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.Driver.RunOpenAsync(s.Invocation), (Driver: this, Invocation: invocation), preferLocal: false);
        }
    }

    private async Task RunOpenAsync(Invocation invocation)
    {
        try
        {
            await InvokeAsync(invocation).ConfigureAwait(false);
        }
        finally
        {
            Release();
            Finish();
        }
    }

    /// <summary>Calls the scenario, stamping the actual start; never throws.</summary>
    private async Task InvokeAsync(Invocation invocation)
    {
        var actual = Elapsed();
        invocation = invocation with { ActualStart = actual };
        Max(ref _maxLatenessTicks, (actual - invocation.IntendedStart).Ticks);
        Interlocked.Increment(ref Counters._started);
        var token = _invocationCts.Token;
        try
        {
            await _invoke(invocation, token).ConfigureAwait(false);
            Interlocked.Increment(ref Counters._completed);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Interlocked.Increment(ref Counters._cancelled);
        }
#pragma warning disable CA1031 // A scenario's failure is isolated and counted; it must not stop the run.
        catch (Exception)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref Counters._faulted);
        }

        if (invocation.Step == Volatile.Read(ref _iterationStep)
            && Interlocked.Increment(ref _iterationsDone) >= Interlocked.Read(ref _iterationsTarget))
        {
            _timer!.Wake();
        }
    }

    /// <summary>Sets the closed target and starts the copies below it that are not running.</summary>
    private void SetTarget(int target, bool fromZero)
    {
        Volatile.Write(ref _target, target);
        Volatile.Write(ref Counters._targetCopies, target);
        // Copies below the last target still run, or are winding down and will see the new target when they check.
        int from = fromZero ? 0 : Math.Min(_startedUpTo, target);
        for (int copy = from; copy < target; copy++)
        {
            if (Interlocked.CompareExchange(ref _copyRunning[copy], 1, 0) == 0)
            {
                int running = Interlocked.Increment(ref Counters._copiesRunning);
                if (running > _peakCopies)
                {
                    Volatile.Write(ref _peakCopies, running);
                }

                Interlocked.Increment(ref _outstanding);
                StartCopy(copy);
            }
        }

        _startedUpTo = target;
    }

    private void StartCopy(int copy)
    {
        if (_options.StartInline)
        {
            _ = CopyAsync(copy);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.Driver.CopyAsync(s.Copy), (Driver: this, Copy: copy), preferLocal: false);
        }
    }

    // The budget flag is read before the target: see RunIterationsAsync for the order it is written in.
    private bool ShouldRun(int copy)
    {
        bool budgeted = _budgetActive;
        return !Volatile.Read(ref _ending) && copy < Volatile.Read(ref _target) && (!budgeted || Interlocked.Read(ref _budget) > 0);
    }

    /// <summary>Whether the copy may start another invocation now, taking one from the budget of an iterations step.</summary>
    private bool TryClaim(int copy)
    {
        bool budgeted = _budgetActive;
        return !Volatile.Read(ref _ending) && copy < Volatile.Read(ref _target) && (!budgeted || Interlocked.Decrement(ref _budget) >= 0);
    }

    private async Task CopyAsync(int copy)
    {
        try
        {
            while (true)
            {
                while (TryClaim(copy))
                {
                    int step = Volatile.Read(ref Counters._step);
                    var ready = Elapsed();
                    if (await AcquireAsync().ConfigureAwait(false) is not { } wait)
                    {
                        break;
                    }

                    long number = Interlocked.Increment(ref _nextNumber) - 1;
                    try
                    {
                        await InvokeAsync(new Invocation(step, copy, number, ready, default, wait)).ConfigureAwait(false);
                    }
                    finally
                    {
                        Release();
                    }
                }

                Volatile.Write(ref _copyRunning[copy], 0);
                // A target raised between the check above and the write saw this copy running and did not start it:
                // take it over rather than leave the slot empty.
                if (!ShouldRun(copy) || Interlocked.CompareExchange(ref _copyRunning[copy], 1, 0) != 0)
                {
                    break;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref Counters._copiesRunning);
            Finish();
        }
    }

    /// <summary>A slot for a closed copy: its queue wait, or null when the run ended while it waited.</summary>
    private ValueTask<TimeSpan?> AcquireAsync()
    {
        TaskCompletionSource<TimeSpan?> waiter;
        lock (_gate)
        {
            if (_ending)
            {
                return ValueTask.FromResult<TimeSpan?>(null);
            }

            if (_inFlight < _maxInFlight)
            {
                TakeSlot();
                return ValueTask.FromResult<TimeSpan?>(TimeSpan.Zero);
            }

            // Closed copies always queue: a dropped loop would only spin.
            waiter = new TaskCompletionSource<TimeSpan?>();
            _queue.Enqueue(new Pending(Volatile.Read(ref Counters._step), 0, 0, default, _time.GetTimestamp(), waiter));
            Counters._queued = _queue.Count;
            Interlocked.Increment(ref Counters._queuedTotal);
        }

        return new ValueTask<TimeSpan?>(waiter.Task);
    }

    /// <summary>The plan is over: stop copies, expire the queue, and note whether all is already done.</summary>
    private void End()
    {
        Pending[] expired;
        lock (_gate)
        {
            _ending = true;
            expired = [.. _queue];
            _queue.Clear();
            Counters._queued = 0;
        }

        _planEndedCts.Cancel();
        Volatile.Write(ref _target, 0);
        Volatile.Write(ref Counters._targetCopies, 0);
        foreach (var pending in expired)
        {
            if (pending.Waiter is { } waiter)
            {
                waiter.SetResult(null);
            }
            else
            {
                Interlocked.Increment(ref Counters._expired);
            }
        }

        if (Interlocked.Read(ref _outstanding) == 0)
        {
            Drained();
        }
    }

    private void Finish()
    {
        if (Interlocked.Decrement(ref _outstanding) == 0 && Volatile.Read(ref _ending))
        {
            Drained();
        }
    }

    // Stamped here, not where RunAsync resumes: the drain's continuation runs later, on the thread pool.
    private void Drained()
    {
        if (Interlocked.CompareExchange(ref _drainedAtTicks, Elapsed().Ticks, -1) == -1)
        {
            _drained.TrySetResult();
        }
    }

    private async Task<bool> WaitDrainedAsync(TimeSpan wait, CancellationToken ct)
    {
        try
        {
            await _drained.Task.WaitAsync(wait, _time, ct).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            return _drained.Task.IsCompleted;
        }
    }

    private void CancelInvocations()
    {
        try
        {
            _invocationCts.Cancel();
        }
#pragma warning disable CA1031 // A scenario's cancellation callback that throws must not stop the driver's ending.
        catch (AggregateException)
#pragma warning restore CA1031
        {
        }
    }

    private static void Max(ref long target, long value)
    {
        long seen = Interlocked.Read(ref target);
        while (value > seen)
        {
            long was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    private readonly record struct Pending(int Step, long Copy, long Number, TimeSpan Intended, long EnqueuedAt, TaskCompletionSource<TimeSpan?>? Waiter);
}
