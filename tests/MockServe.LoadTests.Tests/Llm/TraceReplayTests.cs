using Microsoft.Extensions.Time.Testing;

using MockServe.LoadTests.Llm;
using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Tests.Llm;

// On a fake clock with no synchronisation context and delays that complete inside the clock's advance (as
// LoadDriverTests does), so advancing the clock runs the replay in order, inside the advance.
public class TraceReplayTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly List<(int Line, TimeSpan SentAt, TimeSpan Intended)> _sent = [];
    private readonly DateTimeOffset _start;

    public TraceReplayTests() => _start = _clock.GetUtcNow();

    private TimeSpan Now() => _clock.GetUtcNow() - _start;

    private Task Sleep(TimeSpan span, CancellationToken ct) => _clock.Sleep(span, ct);

    private Task SleepUntil(TimeSpan due, CancellationToken ct) => due > Now() ? Sleep(due - Now(), ct) : Task.CompletedTask;

    /// <summary>Each request records when it was sent, and takes <paramref name="serviceTime"/> of its line.</summary>
    private Func<TraceRequest, TimeSpan, Task> Send(Func<int, TimeSpan> serviceTime) => (record, intended) =>
    {
        _sent.Add((record.Line, Now(), intended));
        var takes = serviceTime(record.Line);
        return takes == TimeSpan.Zero ? Task.CompletedTask : Sleep(takes, CancellationToken.None);
    };

    private Task Replay(Trace trace, TimeSpan limit, Func<int, TimeSpan> serviceTime)
    {
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            return TraceReplay.ReplayAsync(trace.Requests, limit, Now, TimeSpan.Zero, SleepUntil, Send(serviceTime), CancellationToken.None);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    private void Tick(TimeSpan span) => _clock.Tick(span);

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public async Task ReplayAsync_ScaledTrace_StartsEachRecordAtItsScaledTime()
    {
        // Times 0, 2, 4 and 10 s at scale 0.5: sent at 0, 1, 2 and 5 s, in time order whatever the file's order.
        var trace = Trace.Parse(
            [
                """{"time": 4, "prompt_tokens": 10, "output_tokens": 1}""",
                """{"time": 0, "prompt_tokens": 10, "output_tokens": 1}""",
                """{"time": 10, "prompt_tokens": 10, "output_tokens": 1}""",
                """{"time": 2, "prompt_tokens": 10, "output_tokens": 1}""",
            ],
            timeScale: 0.5);

        var replay = Replay(trace, TimeSpan.MaxValue, _ => TimeSpan.Zero);
        Tick(S(6));
        await replay;

        Assert.Equal([(2, S(0), S(0)), (4, S(1), S(1)), (1, S(2), S(2)), (3, S(5), S(5))], _sent);
    }

    [Fact]
    public async Task ReplayAsync_SessionTurnDueBeforeThePreviousAnswer_WaitsForItAndIsIntendedFromIt()
    {
        // Session a: turns at 0 s (takes 2.5 s) and 2 s; the second waits for the first's answer at 2.5 s, and its
        // intended start is 2.5 s. A one-off at 1 s and session b at 3 s are not held up by a's wait.
        var trace = Trace.Parse(
            [
                """{"time": 0, "session": "a", "prompt_tokens": 10, "output_tokens": 1}""",
                """{"time": 1, "prompt_tokens": 10, "output_tokens": 1}""",
                """{"time": 2, "session": "a", "prompt_tokens": 20, "output_tokens": 1}""",
                """{"time": 3, "session": "b", "prompt_tokens": 10, "output_tokens": 1}""",
            ]);

        var replay = Replay(trace, TimeSpan.MaxValue, line => line == 1 ? S(2.5) : TimeSpan.Zero);
        Tick(S(4));
        await replay;

        Assert.Equal([(1, S(0), S(0)), (2, S(1), S(1)), (3, S(2.5), S(2.5)), (4, S(3), S(3))], _sent);
    }

    [Fact]
    public async Task ReplayAsync_SessionTurnDueAfterThePreviousAnswer_StartsAtItsOwnTime()
    {
        // The first turn's answer comes at 1 s; the second is due at 2 s and goes then.
        var trace = Trace.Parse(
            [
                """{"time": 0, "session": "a", "prompt_tokens": 10, "output_tokens": 1}""",
                """{"time": 2, "session": "a", "prompt_tokens": 20, "output_tokens": 1}""",
            ]);

        var replay = Replay(trace, TimeSpan.MaxValue, line => line == 1 ? S(1) : TimeSpan.Zero);
        Tick(S(3));
        await replay;

        Assert.Equal([(1, S(0), S(0)), (2, S(2), S(2))], _sent);
    }

    [Fact]
    public async Task ReplayAsync_RecordsAtOrAfterTheLimit_AreNotSent()
    {
        var trace = Trace.Parse(
            [
                """{"time": 0, "prompt_tokens": 10, "output_tokens": 1}""",
                """{"time": 1.5, "prompt_tokens": 10, "output_tokens": 1}""",
                """{"time": 2, "prompt_tokens": 10, "output_tokens": 1}""",
            ]);

        var replay = Replay(trace, S(2), _ => TimeSpan.Zero);
        Tick(S(3));
        await replay;

        Assert.Equal([1, 2], _sent.Select(s => s.Line));
    }
}
