namespace MockServe.LoadTests.Measurement;

/// <summary>A scenario's counters so far, for the live progress display; the runner divides by its own elapsed time.</summary>
/// <param name="Scenario">The scenario.</param>
/// <param name="Requests">Requests recorded.</param>
/// <param name="Succeeded">Successful requests.</param>
/// <param name="Failed">Failed requests.</param>
/// <param name="OutputTokens">Output tokens of successful requests.</param>
/// <param name="Dropped">Requests the driver dropped.</param>
/// <param name="TtftP99">TTFT p99 so far; null before the first token.</param>
public sealed record LiveSnapshot(
    string Scenario,
    long Requests,
    long Succeeded,
    long Failed,
    long OutputTokens,
    long Dropped,
    TimeSpan? TtftP99);
