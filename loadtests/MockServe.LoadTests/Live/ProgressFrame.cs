using System.Globalization;

using MockServe.LoadTests.Running;

namespace MockServe.LoadTests.Live;

/// <summary>One scenario's counts at one moment, as the progress displays read them.</summary>
/// <param name="Name">The scenario.</param>
/// <param name="Users">Closed copies alive (NBomber's copies: users).</param>
/// <param name="Arrivals">Invocations started so far (open arrivals, or closed loops).</param>
/// <param name="InFlight">Invocations holding a slot now.</param>
/// <param name="Queued">Invocations waiting for a slot now.</param>
/// <param name="Requests">Requests recorded so far.</param>
/// <param name="Failed">Failed requests so far.</param>
/// <param name="OutputTokens">Output tokens of successful requests so far.</param>
/// <param name="Dropped">Invocations dropped at the in-flight cap so far.</param>
/// <param name="TtftP99">TTFT p99 over the run so far; null before the first token.</param>
public sealed record ScenarioProgress(
    string Name,
    int Users,
    long Arrivals,
    int InFlight,
    int Queued,
    long Requests,
    long Failed,
    long OutputTokens,
    long Dropped,
    TimeSpan? TtftP99);

/// <summary>Every scenario's counts at one moment of the run.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Scenarios">The scenarios, in the run's order.</param>
public sealed record ProgressSnapshot(TimeSpan Elapsed, IReadOnlyList<ScenarioProgress> Scenarios)
{
    /// <summary>The run as it is now: the driver's live counters with the recorder's counts and TTFT p99.</summary>
    public static ProgressSnapshot Take(RunView run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var live = run.Live().ToDictionary(l => l.Scenario, StringComparer.Ordinal);
        var scenarios = new List<ScenarioProgress>(run.Scenarios.Count);
        foreach (var scenario in run.Scenarios)
        {
            var c = scenario.Counters;
            live.TryGetValue(scenario.Name, out var l);

            // Drops come from the driver: the recorder learns of them only when its scenario ends.
            scenarios.Add(new ScenarioProgress(
                scenario.Name, c.CopiesRunning, c.Started, c.InFlight, c.Queued,
                l?.Requests ?? 0, l?.Failed ?? 0, l?.OutputTokens ?? 0, c.Dropped, l?.TtftP99));
        }

        return new ProgressSnapshot(run.Elapsed, scenarios);
    }
}

/// <summary>A scenario's row of a progress frame: its counts now and its rates over the last interval.</summary>
/// <param name="Now">The counts now.</param>
/// <param name="RequestsPerSecond">Requests recorded a second over the interval.</param>
/// <param name="OutputTokensPerSecond">Output tokens of successful requests a second over the interval.</param>
public sealed record ProgressRow(ScenarioProgress Now, double RequestsPerSecond, double OutputTokensPerSecond);

/// <summary>
/// What both progress displays show at one tick, worked out from two snapshots: elapsed and remaining time, and per
/// scenario the rates over the interval between them (not since the start, so a stall shows at once).
/// </summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Planned">The run's planned length; null when a scenario runs by iterations.</param>
/// <param name="Rows">One row per scenario, in the run's order.</param>
public sealed record ProgressFrame(TimeSpan Elapsed, TimeSpan? Planned, IReadOnlyList<ProgressRow> Rows)
{
    /// <summary>The planned length less the elapsed time, never below zero; null without a plan.</summary>
    public TimeSpan? Remaining => Planned is { } planned ? (planned > Elapsed ? planned - Elapsed : TimeSpan.Zero) : null;

    /// <summary>
    /// The frame of <paramref name="current"/>, its rates over the time since <paramref name="previous"/> (since the
    /// run's start, from zero counts, when there is none). A scenario new in <paramref name="current"/> counts from zero.
    /// </summary>
    public static ProgressFrame Between(ProgressSnapshot? previous, ProgressSnapshot current, TimeSpan? planned)
    {
        ArgumentNullException.ThrowIfNull(current);
        var before = previous?.Scenarios.ToDictionary(s => s.Name, StringComparer.Ordinal) ?? [];
        double seconds = (current.Elapsed - (previous?.Elapsed ?? TimeSpan.Zero)).TotalSeconds;
        var rows = new List<ProgressRow>(current.Scenarios.Count);
        foreach (var now in current.Scenarios)
        {
            before.TryGetValue(now.Name, out var then);
            rows.Add(new ProgressRow(
                now,
                Rate(now.Requests - (then?.Requests ?? 0), seconds),
                Rate(now.OutputTokens - (then?.OutputTokens ?? 0), seconds)));
        }

        return new ProgressFrame(current.Elapsed, planned, rows);
    }

    // Two ticks at the same moment (a timer that fired late, then on time) have no interval to divide by.
    private static double Rate(long delta, double seconds) => seconds > 0 ? delta / seconds : 0;
}

/// <summary>Keeps the last snapshot so each tick's frame has the rates of its own interval.</summary>
public sealed class ProgressTracker
{
    private ProgressSnapshot? _previous;

    /// <summary>The frame of the run now, its rates since the last call (since the start on the first).</summary>
    public ProgressFrame Next(RunView run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var current = ProgressSnapshot.Take(run);
        var frame = ProgressFrame.Between(_previous, current, run.PlannedDuration);
        _previous = current;
        return frame;
    }
}

/// <summary>The numbers of a frame as both displays print them (invariant culture: logs read alike everywhere).</summary>
internal static class ProgressText
{
    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    public static string Rate(double perSecond) => perSecond.ToString("0.0", CultureInfo.InvariantCulture);

    public static string Ttft(TimeSpan? ttft) =>
        ttft is { } t ? t.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s" : "-";
}
