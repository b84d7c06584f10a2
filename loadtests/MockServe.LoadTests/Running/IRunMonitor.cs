using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Reports;

namespace MockServe.LoadTests.Running;

/// <summary>
/// Watches a run while it goes: a progress display, a metrics exporter, a scraper of the target's metrics. The runner
/// starts <see cref="WatchAsync"/> before the load and cancels it when the load is over, then asks for
/// <see cref="Series"/> once.
/// </summary>
public interface IRunMonitor
{
    /// <summary>Runs beside the load until <paramref name="ct"/> is cancelled at the run's end; returns quietly then.</summary>
    Task WatchAsync(RunView run, CancellationToken ct);

    /// <summary>
    /// Called for every recorded request, from many threads at once: must be cheap, thread-safe and never throw.
    /// </summary>
    void OnRecorded(RequestSample sample)
    {
    }

    /// <summary>Series for the report's charts, asked once after <see cref="WatchAsync"/> has returned.</summary>
    IReadOnlyList<TimeSeries> Series => [];
}
