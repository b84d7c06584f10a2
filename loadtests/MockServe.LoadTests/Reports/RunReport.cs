using MockServe.LoadTests.Measurement;

namespace MockServe.LoadTests.Reports;

/// <summary>Everything the report writers show: the final statistics, the kept samples and the SLO verdicts.</summary>
/// <param name="Statistics">The run's statistics (<see cref="RunRecorder.GetStatistics"/>).</param>
/// <param name="Samples">The requests, for <c>requests.jsonl</c> (<see cref="RunRecorder.Samples"/>).</param>
/// <param name="Verdicts">The SLO verdicts (<see cref="SloSet.Evaluate"/>); empty without SLOs.</param>
public sealed record RunReport(RunStatistics Statistics, IReadOnlyList<RequestSample> Samples, IReadOnlyList<SloVerdict> Verdicts)
{
    /// <summary>The report of a recorder's run: its statistics, samples and the verdicts of its SLOs.</summary>
    public static RunReport From(RunRecorder recorder, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        var statistics = recorder.GetStatistics(duration);
        return new RunReport(statistics, recorder.Samples(), recorder.Evaluate(statistics));
    }

    /// <summary>Series sampled during the run (users, the server's scraped metrics), charted after the built-in charts.</summary>
    public IReadOnlyList<TimeSeries> Series { get; init; } = [];

    /// <summary>The run's wall seconds per model second: other than 1, every time in the report is model time.</summary>
    public double TimeScale { get; init; } = 1;

    /// <summary>A sentence that says which clock the report's times are on.</summary>
    public string ClockNote => TimeScale == 1
        ? "Times are wall time."
        : string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Times and rates are model time: the target ran at time scale {TimeScale:0.####} (1 model second = {TimeScale:0.####} wall seconds), and so did the driver's clock.");

    /// <summary>Whether every SLO held (true without SLOs); a run that breaks one exits non-zero.</summary>
    public bool SlosPassed => Verdicts.All(v => v.Passed);
}
