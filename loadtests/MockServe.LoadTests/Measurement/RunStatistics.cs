namespace MockServe.LoadTests.Measurement;

/// <summary>The statistics of a run (or of the run so far), one entry per scenario in the order they first recorded.</summary>
public sealed record RunStatistics(TimeSpan Duration, IReadOnlyList<ScenarioStatistics> Scenarios);

/// <summary>What one scenario's requests lived through.</summary>
/// <remarks>
/// Latency metrics count successful requests only; schedule lateness counts every request the driver issued,
/// failed ones included. Throughputs and goodputs divide by the run's duration.
/// </remarks>
public sealed record ScenarioStatistics
{
    /// <summary>The scenario's name.</summary>
    public required string Scenario { get; init; }

    /// <summary>The duration the rates divide by.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Requests recorded, failed ones included (driver drops are not requests: see <see cref="Driver"/>).</summary>
    public long Requests { get; init; }

    /// <summary>Successful requests.</summary>
    public long Succeeded { get; init; }

    /// <summary>Failed requests.</summary>
    public long Failed { get; init; }

    /// <summary>Failed / requests, from 0 to 1; 0 when there were none.</summary>
    public double ErrorRate => Requests == 0 ? 0 : (double)Failed / Requests;

    /// <summary>Output tokens of successful requests.</summary>
    public long OutputTokens { get; init; }

    /// <summary>Prompt tokens of successful requests.</summary>
    public long PromptTokens { get; init; }

    /// <summary>Cached prompt tokens of successful requests.</summary>
    public long CachedTokens { get; init; }

    /// <summary>Bytes the scenario reported with its responses (NBomber's sizeBytes), all requests.</summary>
    public long SizeBytes { get; init; }

    /// <summary>Successful requests per second.</summary>
    public double RequestsPerSecond => PerSecond(Succeeded);

    /// <summary>Output tokens of successful requests per second.</summary>
    public double OutputTokensPerSecond => PerSecond(OutputTokens);

    /// <summary>Every metric with at least one value, over all requests.</summary>
    public required IReadOnlyDictionary<Metric, LatencyStats> Metrics { get; init; }

    /// <summary>The metrics per turn index, in turn order.</summary>
    public required IReadOnlyDictionary<int, IReadOnlyDictionary<Metric, LatencyStats>> ByTurn { get; init; }

    /// <summary>The metrics per cache state the server reported, in enum order.</summary>
    public required IReadOnlyDictionary<TurnCacheState, IReadOnlyDictionary<Metric, LatencyStats>> ByCacheState { get; init; }

    /// <summary>Failed requests per status code, most frequent first.</summary>
    public required IReadOnlyDictionary<string, long> ErrorsByStatus { get; init; }

    /// <summary>The first error message seen for each status in <see cref="ErrorsByStatus"/> that had one.</summary>
    public IReadOnlyDictionary<string, string> FirstErrors { get; init; } = new Dictionary<string, string>();

    /// <summary>Requests and sessions that met every SLO.</summary>
    public required GoodputStats Goodput { get; init; }

    /// <summary>Requests the run cut short at its end (<see cref="RequestSample.CutStatus"/>): in no other count.</summary>
    public long Cut { get; init; }

    /// <summary>The driver's own drops and queueing.</summary>
    public required DriverStats Driver { get; init; }

    internal double PerSecond(long count) => Duration <= TimeSpan.Zero ? 0 : count / Duration.TotalSeconds;
}

/// <summary>Goodput: requests that met every SLO, and sessions every one of whose turns did.</summary>
/// <param name="Requests">Requests that succeeded and met every SLO.</param>
/// <param name="RequestsPerSecond">Those requests per second of the run.</param>
/// <param name="Sessions">Sessions seen (requests with a session id).</param>
/// <param name="GoodSessions">Sessions every turn of which met every SLO.</param>
/// <param name="SessionsPerSecond">Good sessions per second of the run.</param>
public sealed record GoodputStats(long Requests, double RequestsPerSecond, long Sessions, long GoodSessions, double SessionsPerSecond);

/// <summary>What the driver itself did to the load: requests it dropped, and those it queued, with their wait.</summary>
/// <param name="Dropped">Requests the in-flight cap dropped (never sent).</param>
/// <param name="Queued">Requests that waited for a slot under the in-flight cap.</param>
/// <param name="QueueWait">The wait of the queued requests; null when none queued.</param>
public sealed record DriverStats(long Dropped, long Queued, LatencyStats? QueueWait);
