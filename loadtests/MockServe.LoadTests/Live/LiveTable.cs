using System.Globalization;

using MockServe.LoadTests.Running;

using Spectre.Console;
using Spectre.Console.Rendering;

namespace MockServe.LoadTests.Live;

/// <summary>
/// A table redrawn in place every interval on a terminal: the clock, and a scenario a row with its users, requests in
/// flight, rates over the last interval, TTFT p99 so far, errors, drops and queue.
/// </summary>
public sealed class LiveTable(IAnsiConsole console, TimeSpan interval) : IRunMonitor
{
    private static readonly string[] Columns =
        ["scenario", "users", "started", "in flight", "req/s", "tok/s", "TTFT p99", "requests", "errors", "dropped", "queued"];

    public async Task WatchAsync(RunView run, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(run);
        var tracker = new ProgressTracker();
        await console.Live(Render(tracker.Next(run))).AutoClear(false).StartAsync(async context =>
        {
            using var timer = new PeriodicTimer(interval, run.Time);
            try
            {
                while (await timer.WaitForNextTickAsync(ct))
                {
                    context.UpdateTarget(Render(tracker.Next(run)));
                    context.Refresh();
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The run is over: the last frame, with the final counts, stays on the screen above the summary.
                context.UpdateTarget(Render(tracker.Next(run)));
                context.Refresh();
            }
        });
    }

    /// <summary>The table of one frame.</summary>
    public static IRenderable Render(ProgressFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        string clock = frame.Remaining is { } left
            ? $"{ProgressText.Seconds(frame.Elapsed)} elapsed, {ProgressText.Seconds(left)} left of {ProgressText.Seconds(frame.Planned!.Value)}"
            : $"{ProgressText.Seconds(frame.Elapsed)} elapsed";
        var table = new Table { Title = new TableTitle(clock), Border = TableBorder.Rounded };
        table.AddColumn(new TableColumn(Columns[0]));
        foreach (string column in Columns.Skip(1))
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var row in frame.Rows)
        {
            var s = row.Now;
            table.AddRow(
                Markup.Escape(s.Name),
                Count(s.Users),
                Count(s.Arrivals),
                Count(s.InFlight),
                ProgressText.Rate(row.RequestsPerSecond),
                ProgressText.Rate(row.OutputTokensPerSecond),
                ProgressText.Ttft(s.TtftP99),
                Count(s.Requests),
                s.Failed > 0 ? $"[red]{Count(s.Failed)}[/]" : "0",
                s.Dropped > 0 ? $"[yellow]{Count(s.Dropped)}[/]" : "0",
                Count(s.Queued));
        }

        return table;
    }

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);
}
