using System.Collections.Concurrent;
using System.Globalization;

using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Reports;
using MockServe.LoadTests.Scenarios;
using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Running;

/// <summary>How a run is carried out and reported.</summary>
public sealed record RunOptions
{
    /// <summary>The wall clock: the system clock, or a test's.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// The target's wall seconds per model second (its <c>--time-scale</c>). Other than 1, the run lives on the model's
    /// clock (<see cref="ModelClock"/>): load simulations, think times and every measurement are model time; monitors
    /// still tick in wall time.
    /// </summary>
    public double TimeScale { get; init; } = 1;

    /// <summary>Seeds the load simulations' random arrivals and each copy's random source.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Where report.md, report.csv, requests.jsonl (and report.html) go; null: the console summary only.</summary>
    public string? ReportDirectory { get; init; }

    public bool Html { get; init; } = true;

    /// <summary>Where the summary table goes.</summary>
    public TextWriter Output { get; init; } = TextWriter.Null;

    /// <summary>What watches the run while it goes: progress displays, metric exporters, scrapers (none by default).</summary>
    public IReadOnlyList<IRunMonitor> Monitors { get; init; } = [];
}

/// <summary>What a run measured, the SLO verdicts, and what the drivers did.</summary>
public sealed record RunOutcome(RunReport Report, IReadOnlyDictionary<string, DriverSummary> Drivers, IReadOnlyList<string> ReportFiles)
{
    /// <summary>0 when every threshold held, 1 when one broke.</summary>
    public int ExitCode => Report.SlosPassed ? 0 : 1;
}

/// <summary>Runs scenarios side by side, each under its own load simulations, and records every request.</summary>
public static class LoadRunner
{
    private static readonly TimeSpan CleanTimeout = TimeSpan.FromSeconds(10);

    public static async Task<RunOutcome> RunAsync(IReadOnlyList<ScenarioProps> scenarios, RunOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scenarios);
        ArgumentNullException.ThrowIfNull(options);
        if (scenarios.Count == 0 || scenarios.Select(s => s.Name).Distinct(StringComparer.Ordinal).Count() != scenarios.Count)
        {
            throw new ArgumentException("scenarios: at least one, each with a name of its own", nameof(scenarios));
        }

        var time = ModelClock.For(options.Time, options.TimeScale);
        var recorder = new RunRecorder(scenarios.ToDictionary(s => s.Name, s => s.Thresholds, StringComparer.Ordinal));
        long start = time.GetTimestamp();
        TimeSpan Now() => time.GetElapsedTime(start);
        var runs = scenarios.Select(s => new ScenarioRun(s, LoadPlan.Create(s.LoadSimulations, options.Seed), time, options, recorder, Now)).ToList();

        var plans = runs.Select(r => r.Plan.Duration).ToList();
        var view = new RunView(options.Time, Now, plans.Contains(null) ? null : plans.Max(), [.. runs.Select(r => new ScenarioView(r.Props.Name, r.Driver.Counters))], recorder);
        using var stopMonitors = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watching = options.Monitors.Select(m => WatchAsync(m, view, stopMonitors.Token)).ToList();
        // Every driver counts from the run's start, so a request's intended and actual starts (the driver's) and its
        // token times (the scenario's, on Now) share one origin.
        var summaries = await Task.WhenAll(runs.Select(r => r.RunAsync(start, ct)));
        await stopMonitors.CancelAsync();
        await Task.WhenAll(watching);

        var report = RunReport.From(recorder, Now()) with { Series = [.. options.Monitors.SelectMany(m => m.Series)], TimeScale = options.TimeScale };
        ConsoleSummary.Write(options.Output, report);
        IReadOnlyList<string> files = options.ReportDirectory is { } dir ? ReportWriter.WriteAll(dir, report, options.Html) : [];
        return new RunOutcome(report, runs.Zip(summaries).ToDictionary(p => p.First.Props.Name, p => p.Second, StringComparer.Ordinal), files);
    }

    private static async Task WatchAsync(IRunMonitor monitor, RunView view, CancellationToken ct)
    {
        try
        {
            await monitor.WatchAsync(view, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    /// <summary>One scenario's driver, copies and recording.</summary>
    private sealed class ScenarioRun(ScenarioProps props, LoadPlan plan, TimeProvider time, RunOptions options, RunRecorder recorder, Func<TimeSpan> now)
    {
        public LoadPlan Plan { get; } = plan;

        private readonly ConcurrentDictionary<long, CopyState> _copies = new();
        public ScenarioProps Props { get; } = props;

        public LoadDriver Driver { get; } = new(plan, props.Driver, time);

        public async Task<DriverSummary> RunAsync(long origin, CancellationToken ct)
        {
            var summary = await Driver.RunAsync(InvokeAsync, ct, origin);
            for (long i = 0; i < summary.Dropped; i++)
            {
                recorder.RecordDriverDrop(Props.Name);
            }

            if (Props.CleanCopy is { } clean)
            {
                using var timeout = new CancellationTokenSource(CleanTimeout, options.Time);
                await Task.WhenAll(_copies.Values.Select(c => CleanAsync(clean, c, timeout.Token)));
            }

            return summary;
        }

        private static async Task CleanAsync(Func<CopyState, CancellationToken, Task> clean, CopyState copy, CancellationToken ct)
        {
            try
            {
                await clean(copy, ct);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Cleaning is best effort: the server's session TTL frees what a failed close left.
            }
        }

        private async Task InvokeAsync(Invocation invocation, CancellationToken ct)
        {
            if (invocation.QueueWait > TimeSpan.Zero)
            {
                recorder.RecordDriverQueueWait(Props.Name, invocation.QueueWait);
            }

            var copy = _copies.GetOrAdd(invocation.Copy, c => new CopyState(c, new Random(CopySeed(options.Seed, Props.Name, c))));
            var context = new ScenarioContext(Props.Name, invocation, Plan.Steps[invocation.Step].Model, copy, time, now, Record, ct, Driver.PlanEnded);
            Response response;
            try
            {
                response = await Props.Step(context);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                response = Response.Fail(RequestSample.CutStatus);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A step that throws is a failed request named by its exception, as NBomber counts it; the run goes on.
                response = Response.Fail(ex.GetType().Name, message: ex.Message);
            }

            if (response.IsRecorded)
            {
                return;
            }

            Record(response.Sample ?? new RequestSample
            {
                Scenario = Props.Name,
                RequestIndex = invocation.Number,
                Copy = (int)invocation.Copy,
                IntendedStart = invocation.IntendedStart,
                ActualStart = invocation.ActualStart,
                End = now(),
                Status = response.Status,
                Ok = response.IsOk,
                Error = response.Message,
                CustomLatency = response.Latency,
                SizeBytes = response.SizeBytes,
            });
        }

        private void Record(RequestSample sample)
        {
            recorder.Record(sample);
            foreach (var monitor in options.Monitors)
            {
                monitor.OnRecorded(sample);
            }
        }

        /// <summary>A copy's seed from the run's seed, the scenario and the copy: stable across processes (string.GetHashCode is not).</summary>
        private static int CopySeed(int seed, string scenario, long copy)
        {
            int hash = seed;
            foreach (char c in scenario)
            {
                hash = unchecked((hash * 31) + c);
            }

            return unchecked((int)((hash * 1_000_003L) + copy));
        }
    }
}
