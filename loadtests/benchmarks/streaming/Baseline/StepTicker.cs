using System.Collections.Concurrent;

namespace MockServe.Benchmarks.Streaming.Baseline;

/// <summary>
/// One fixed-period clock for every open stream, standing in for the mock's decode step: at each tick, each stream
/// whose time to first token has passed gets its next token, stamped with the tick's due time (not the later moment
/// the timer fired), as the mock's real-time clock stamps a step with its due model time. A late tick is caught up,
/// never skipped, so the token rate is exactly one per stream per period.
/// </summary>
internal sealed class StepTicker(TimeProvider time, TimeSpan step, TimeSpan ttft)
{
    // Streams join from request threads; the list of open streams belongs to the ticker loop alone.
    private readonly ConcurrentQueue<BaselineStream> _joining = new();
    private readonly List<BaselineStream> _open = [];
    private readonly long _stepTicks = ToTimestampTicks(time, step);

    public TimeProvider Time => time;

    public long TtftTicks { get; } = ToTimestampTicks(time, ttft);

    public void Join(BaselineStream stream) => _joining.Enqueue(stream);

    public async Task RunAsync(CancellationToken ct)
    {
        long start = time.GetTimestamp();
        for (long k = 1; !ct.IsCancellationRequested; k++)
        {
            long due = start + (k * _stepTicks);
            var wait = time.GetElapsedTime(time.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, time, ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            Tick(due);
        }

        foreach (var stream in _open)
        {
            stream.Abandon();
        }
    }

    private void Tick(long due)
    {
        while (_joining.TryDequeue(out var joined))
        {
            _open.Add(joined);
        }

        int kept = 0;
        for (int i = 0; i < _open.Count; i++)
        {
            var stream = _open[i];
            if (stream.Step(due, TtftTicks))
            {
                _open[kept++] = stream;
            }
        }

        _open.RemoveRange(kept, _open.Count - kept);
    }

    private static long ToTimestampTicks(TimeProvider time, TimeSpan span) => (long)Math.Round(span.TotalSeconds * time.TimestampFrequency);
}
