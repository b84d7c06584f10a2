using System.Globalization;

using MockServe.LoadTests.Running;

namespace MockServe.LoadTests.Live;

/// <summary>A line per scenario every interval: the progress display for logs and any output that is not a terminal.</summary>
public sealed class PlainProgress(TextWriter output, TimeSpan interval) : IRunMonitor
{
    public async Task WatchAsync(RunView run, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(run);
        var tracker = new ProgressTracker();
        using var timer = new PeriodicTimer(interval, run.Time);
        while (await timer.WaitForNextTickAsync(ct))
        {
            foreach (string line in Lines(tracker.Next(run)))
            {
                await output.WriteLineAsync(line);
            }
        }
    }

    /// <summary>The lines of one frame, a scenario a line.</summary>
    public static IEnumerable<string> Lines(ProgressFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        string clock = frame.Remaining is { } left
            ? string.Create(CultureInfo.InvariantCulture, $"[{frame.Elapsed.TotalSeconds,6:0.0} s, {ProgressText.Seconds(left)} left]")
            : string.Create(CultureInfo.InvariantCulture, $"[{frame.Elapsed.TotalSeconds,6:0.0} s]");
        foreach (var row in frame.Rows)
        {
            var s = row.Now;
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{clock} {s.Name}: users {s.Users}, started {s.Arrivals}, in flight {s.InFlight}, {ProgressText.Rate(row.RequestsPerSecond)} req/s, {ProgressText.Rate(row.OutputTokensPerSecond)} tok/s, TTFT p99 {ProgressText.Ttft(s.TtftP99)}, requests {s.Requests}, failed {s.Failed}, dropped {s.Dropped}, queued {s.Queued}");
        }
    }
}
