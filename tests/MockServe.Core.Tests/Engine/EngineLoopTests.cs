using System.Collections.Concurrent;

using Microsoft.Extensions.Time.Testing;

using MockServe.Core.Engine;
using MockServe.Core.Profiles;

namespace MockServe.Core.Tests.Engine;

/// <summary>The engine in real time, on a fake clock the test moves by hand: exact model times whatever the wake-ups.</summary>
public sealed class EngineLoopTests
{
    private static void Near(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= Math.Abs(expected) * 1e-9, $"expected {expected:R}, got {actual:R}");

    [Fact]
    public async Task Tokens_WakeUpsLateAndSnapshotsBetween_LeaveAtTheModelTimes()
    {
        using var rig = new Rig();
        var handle = await rig.SubmitAsync("a", prompt: 2000, maxTokens: 6);

        // Every wake-up comes 37 ms after some step was due, and reads (snapshots, an abort of nothing) arrive in
        // between: none of it may move a token. The old engine moved the next step to the time of such a call.
        var tokens = await rig.DriveAsync(handle, step: 0.083, between: async () =>
        {
            await rig.Loop.SnapshotAsync();
            await rig.Loop.CancelAsync("nobody");
        });

        var expected = YiOnA100.TokenTimes(2000, 6);
        Assert.Equal(6, tokens.Count);
        for (int k = 0; k < 6; k++)
        {
            Near(expected[k], tokens[k]);
        }
    }

    [Fact]
    public async Task Tokens_ScaledTime_LeaveAtTheScaledModelTimes()
    {
        using var rig = new Rig(timeScale: 0.5);
        var handle = await rig.SubmitAsync("a", prompt: 2000, maxTokens: 2);
        var times = YiOnA100.TokenTimes(2000, 2);

        // Half a decode step (in wall time) before the first token is due: nothing yet.
        rig.Fake.Advance(TimeSpan.FromSeconds((times[0] * 0.5) - (YiOnA100.Decode(2000) * 0.25)));
        await rig.Loop.SnapshotAsync();
        Assert.False(handle.Events.TryPeek(out _));
        rig.Fake.Advance(TimeSpan.FromSeconds(YiOnA100.Decode(2000) * 0.5));
        var first = await ReadAsync(handle);

        Near(times[0], first.Time);
        Assert.Equal(1, first.Index);
    }

    [Fact]
    public async Task Submit_WhileAStepRuns_IsStampedWhenItArrivesAndJoinsTheNextStep()
    {
        using var rig = new Rig(new EngineOptions { Scheduler = SchedulingPolicies.PrefillFirst });
        var a = await rig.SubmitAsync("a", prompt: 2000, maxTokens: 2);
        rig.Fake.Advance(TimeSpan.FromSeconds(0.1));

        var b = await rig.SubmitAsync("b", prompt: 1000, maxTokens: 1);
        await rig.DriveAsync(a, step: 0.05);
        await rig.DriveAsync(b, step: 0.05);

        // b arrives at 0.1 in a's 2000-token prefill; under prefill-first it prefills alone in the next step.
        Assert.Equal(0.1, b.ArrivalTime, 12);
        double aPrefill = YiOnA100.Prefill(2000, 0);
        Near(aPrefill - 0.1, b.Result!.QueueSeconds);
        Near(aPrefill + YiOnA100.Prefill(1000, 0), b.Result.FirstTokenTime);
    }

    [Fact]
    public async Task Observer_ThrowsOnEveryToken_EngineGoesOnAndCountsEachFault()
    {
        var faults = new ConcurrentQueue<Exception>();
        using var rig = new Rig(observer: new ThrowingObserver(), onFault: faults.Enqueue);
        var a = await rig.SubmitAsync("a", prompt: 1000, maxTokens: 5);

        var tokens = await rig.DriveAsync(a, step: 0.05);
        var b = await rig.SubmitAsync("b", prompt: 1000, maxTokens: 3);
        await rig.DriveAsync(b, step: 0.05);

        Assert.Equal(5, tokens.Count);
        Assert.Equal(FinishReason.Length, a.Result!.FinishReason);
        Assert.Equal(3, b.Result!.CompletionTokens);
        // One throw per token, 5 + 3, and one per step end: each caught, counted and reported.
        Assert.Equal(8 + rig.Steps, rig.Loop.Faults);
        Assert.Equal(rig.Loop.Faults, faults.Count);
        Assert.All(faults, f => Assert.IsType<InvalidOperationException>(f));
    }

    [Fact]
    public async Task HandleCancel_MidDecode_EndsTheReaderCancelledAndFreesKv()
    {
        using var rig = new Rig();
        var handle = await rig.SubmitAsync("a", prompt: 4000, maxTokens: 1000);
        rig.Fake.Advance(TimeSpan.FromSeconds(2));
        var first = await ReadAsync(handle);
        Assert.Equal(1, first.Index);

        handle.Cancel();
        RequestEvent last;
        do
        {
            last = await ReadAsync(handle);
        }
        while (!last.IsEnd);

        Assert.Equal(FinishReason.Cancelled, last.Result!.FinishReason);
        var pool = await rig.Loop.SnapshotAsync();
        Assert.Equal(0, pool.HbmBlocksUsed);
        Assert.Equal(0, pool.Running);
    }

    [Fact]
    public async Task Dispose_RequestsInFlight_TheirReadersEndCancelledAndLaterCallsAreRefused()
    {
        var rig = new Rig();
        var handle = await rig.SubmitAsync("a", prompt: 4000, maxTokens: 1000);

        rig.Dispose();

        var end = await ReadAsync(handle);
        Assert.True(end.IsEnd);
        Assert.Equal(FinishReason.Cancelled, end.Result!.FinishReason);
        var refused = await rig.Loop.SubmitAsync(new InferenceRequest { RequestId = "b", PromptTokens = 10, MaxTokens = 1 });
        Assert.Equal(RejectReason.Stopped, refused.Reason);
        Assert.False(await rig.Loop.CloseSessionAsync("s"));
        await Assert.ThrowsAsync<ObjectDisposedException>(rig.Loop.SnapshotAsync);
    }

    private static async Task<RequestEvent> ReadAsync(RequestHandle handle)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await handle.Events.ReadAsync(timeout.Token);
    }

    /// <summary>An engine loop on a fake clock, Yi-34B on one A100.</summary>
    private sealed class Rig : IDisposable, IEngineObserver
    {
        private readonly IEngineObserver? _inner;
        private int _steps;

        public Rig(EngineOptions? options = null, double timeScale = 1.0, IEngineObserver? observer = null, Action<Exception>? onFault = null)
        {
            _inner = observer;
            Loop = new EngineLoop(Presets.DefaultDeployment, options ?? new EngineOptions(), Fake, timeScale, this, onFault);
        }

        public FakeTimeProvider Fake { get; } = new();

        public EngineLoop Loop { get; }

        public int Steps => Volatile.Read(ref _steps);

        public async Task<RequestHandle> SubmitAsync(string id, long prompt, long maxTokens)
        {
            var submitted = await Loop.SubmitAsync(new InferenceRequest { RequestId = id, PromptTokens = prompt, MaxTokens = maxTokens });
            Assert.True(submitted.IsAccepted, submitted.Message);
            return submitted.Handle!;
        }

        /// <summary>
        /// Moves the fake clock by <paramref name="step"/> wall seconds at a time, running <paramref name="between"/>
        /// after each move, until the request ends; returns its token times.
        /// </summary>
        public async Task<List<double>> DriveAsync(RequestHandle handle, double step, Func<Task>? between = null)
        {
            var times = new List<double>();
            for (int i = 0; i < 100_000; i++)
            {
                while (handle.Events.TryRead(out var e))
                {
                    if (e.IsEnd)
                    {
                        return times;
                    }

                    times.Add(e.Time);
                }

                Fake.Advance(TimeSpan.FromSeconds(step));
                if (between is not null)
                {
                    await between();
                }

                // A snapshot is answered after everything due before it: the loop has caught up with the clock.
                await Loop.SnapshotAsync();
            }

            Assert.Fail("the request did not end in 100,000 moves of the clock");
            return times;
        }

        public void Dispose() => Loop.Dispose();

        public void OnEvent(in EngineEvent e) => _inner?.OnEvent(e);

        public void OnStep(in StepSummary step)
        {
            Interlocked.Increment(ref _steps);
            _inner?.OnStep(step);
        }
    }

    private sealed class ThrowingObserver : IEngineObserver
    {
        public void OnEvent(in EngineEvent e)
        {
            if (e.Kind == EngineEventKind.Token)
            {
                throw new InvalidOperationException($"observer bug at token {e.Count}");
            }
        }

        public void OnStep(in StepSummary step) => throw new InvalidOperationException("observer bug at a step");
    }
}
