using System.Globalization;

using MockServe.LoadTests.Running;

namespace MockServe.LoadTests.Live;

/// <summary>A line per scenario every interval: the progress display for logs and any output that is not a terminal.</summary>
public sealed class PlainProgress(TextWriter output, TimeSpan interval) : IRunMonitor
{
    public async Task WatchAsync(RunView run, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(run);
        using var timer = new PeriodicTimer(interval, run.Time);
        while (await timer.WaitForNextTickAsync(ct))
        {
            var live = run.Live().ToDictionary(l => l.Scenario, StringComparer.Ordinal);
            foreach (var scenario in run.Scenarios)
            {
                var c = scenario.Counters;
                long failed = live.TryGetValue(scenario.Name, out var l) ? l.Failed : 0;
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"[{run.Elapsed.TotalSeconds,6:0.0} s] {scenario.Name}: copies {c.CopiesRunning}, in flight {c.InFlight}, started {c.Started}, completed {c.Completed}, failed {failed}, dropped {c.Dropped}, queued {c.Queued}"));
            }
        }
    }
}
