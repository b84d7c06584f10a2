using Microsoft.Extensions.Time.Testing;

namespace MockServe.LoadTests.Tests;

/// <summary>
/// Runs schedules on a fake clock in order, inside the clock's advance: the clock moves a millisecond at a time with
/// no synchronisation context (a task completed on xunit's would continue on the thread pool, after the advance),
/// and delays complete inside the advance (the clock's own Task.Delay completes asynchronously).
/// </summary>
internal static class FakeClockSteps
{
    /// <summary>Advances the clock by <paramref name="span"/>, a millisecond at a time, with no synchronisation context.</summary>
    public static void Tick(this FakeTimeProvider clock, TimeSpan span)
    {
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            var end = clock.GetUtcNow() + span;
            while (clock.GetUtcNow() < end)
            {
                clock.Advance(TimeSpan.FromMilliseconds(1));
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    /// <summary>A delay on the clock whose completion runs inside the clock's advance.</summary>
    public static Task Sleep(this FakeTimeProvider clock, TimeSpan span, CancellationToken ct)
    {
        var done = new TaskCompletionSource();
        var timer = clock.CreateTimer(static s => ((TaskCompletionSource)s!).TrySetResult(), done, span, Timeout.InfiniteTimeSpan);
        var registration = ct.Register(() => done.TrySetCanceled(ct));
        return done.Task.ContinueWith(
            t =>
            {
                timer.Dispose();
                registration.Dispose();
                return t;
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default).Unwrap();
    }
}
