namespace MockServe.LoadTests.Measurement;

/// <summary>One scenario's histograms and counters behind one lock.</summary>
internal sealed class ScenarioRecorder(string name, long order, SloSet slos)
{
    private readonly Lock _gate = new();
    private readonly MetricGroup _overall = new();
    private readonly SortedDictionary<int, MetricGroup> _byTurn = [];
    private readonly SortedDictionary<TurnCacheState, MetricGroup> _byCache = [];
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _firstErrors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _sessionsMet = new(StringComparer.Ordinal);
    private readonly List<RequestSample> _samples = [];
    private readonly MicrosHistogram _queueWait = new();
    private long _requests;
    private long _succeeded;
    private long _outputTokens;
    private long _promptTokens;
    private long _cachedTokens;
    private long _sizeBytes;
    private long _goodRequests;
    private long _dropped;
    private long _cut;

    public long Order { get; } = order;

    public SloSet Slos { get; } = slos;

    public void Record(RequestSample sample, bool metSlos, bool keep)
    {
        lock (_gate)
        {
            if (sample.Status == RequestSample.CutStatus)
            {
                // The run's end, not the target, stopped it: neither a request of the statistics nor an error.
                _cut++;
                if (keep)
                {
                    _samples.Add(sample.WithoutGaps());
                }

                return;
            }

            _requests++;
            _sizeBytes += sample.SizeBytes ?? 0;
            if (sample.Ok)
            {
                _succeeded++;
                _outputTokens += sample.OutputTokens;
                _promptTokens += sample.PromptTokens;
                _cachedTokens += sample.CachedTokens;
            }
            else
            {
                string status = sample.Status == RequestSample.OkStatus ? "Failed" : sample.Status;
                _errors[status] = _errors.GetValueOrDefault(status) + 1;
                if (sample.Error is { Length: > 0 } error)
                {
                    _firstErrors.TryAdd(status, error);
                }
            }

            if (metSlos)
            {
                _goodRequests++;
            }

            if (sample.SessionId is { } session)
            {
                _sessionsMet[session] = _sessionsMet.GetValueOrDefault(session, true) && metSlos;
            }

            _overall.Record(sample);
            Group(_byTurn, sample.Turn).Record(sample);
            Group(_byCache, sample.CacheState).Record(sample);
            if (keep)
            {
                _samples.Add(sample.WithoutGaps());
            }
        }
    }

    public void RecordDrop()
    {
        lock (_gate)
        {
            _dropped++;
        }
    }

    public void RecordQueueWait(TimeSpan wait)
    {
        lock (_gate)
        {
            _queueWait.Record(wait);
        }
    }

    public LiveSnapshot Live()
    {
        lock (_gate)
        {
            return new LiveSnapshot(name, _requests, _succeeded, _requests - _succeeded, _outputTokens, _dropped, _overall.P99(Metric.Ttft));
        }
    }

    public RequestSample[] Samples()
    {
        lock (_gate)
        {
            return [.. _samples];
        }
    }

    public ScenarioStatistics ToStatistics(TimeSpan duration)
    {
        lock (_gate)
        {
            var stats = new ScenarioStatistics
            {
                Scenario = name,
                Duration = duration,
                Requests = _requests,
                Succeeded = _succeeded,
                Failed = _requests - _succeeded,
                OutputTokens = _outputTokens,
                PromptTokens = _promptTokens,
                CachedTokens = _cachedTokens,
                SizeBytes = _sizeBytes,
                Metrics = _overall.ToStats(),
                ByTurn = new SortedDictionary<int, IReadOnlyDictionary<Metric, LatencyStats>>(
                    _byTurn.ToDictionary(p => p.Key, p => p.Value.ToStats())),
                ByCacheState = new SortedDictionary<TurnCacheState, IReadOnlyDictionary<Metric, LatencyStats>>(
                    _byCache.ToDictionary(p => p.Key, p => p.Value.ToStats())),
                ErrorsByStatus = _errors.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
                    .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
                FirstErrors = new Dictionary<string, string>(_firstErrors, StringComparer.Ordinal),
                Cut = _cut,
                Goodput = new GoodputStats(0, 0, 0, 0, 0),
                Driver = new DriverStats(_dropped, _queueWait.Count, _queueWait.Count == 0 ? null : _queueWait.ToStats()),
            };
            long goodSessions = _sessionsMet.Count(p => p.Value);
            return stats with
            {
                Goodput = new GoodputStats(
                    _goodRequests,
                    stats.PerSecond(_goodRequests),
                    _sessionsMet.Count,
                    goodSessions,
                    stats.PerSecond(goodSessions)),
            };
        }
    }

    private static MetricGroup Group<TKey>(SortedDictionary<TKey, MetricGroup> groups, TKey key)
        where TKey : notnull
    {
        if (!groups.TryGetValue(key, out var group))
        {
            group = new MetricGroup();
            groups.Add(key, group);
        }

        return group;
    }
}

/// <summary>One histogram per metric, made on the first value (a group that never sees a metric costs nothing for it).</summary>
internal sealed class MetricGroup
{
    private readonly MicrosHistogram?[] _histograms = new MicrosHistogram?[MetricNames.All.Count];

    public void Record(RequestSample sample)
    {
        Add(Metric.ScheduleLateness, sample.ScheduleLateness);
        if (!sample.Ok)
        {
            return;
        }

        foreach (var metric in MetricNames.All)
        {
            if (metric != Metric.ScheduleLateness && sample.ValueOf(metric) is { } value)
            {
                Add(metric, value);
            }
        }

        if (sample.ChunkGaps.Count > 0)
        {
            var gaps = _histograms[(int)Metric.ChunkGap] ??= new MicrosHistogram();
            foreach (var gap in sample.ChunkGaps)
            {
                gaps.Record(gap);
            }
        }
    }

    public TimeSpan? P99(Metric metric) => _histograms[(int)metric] is { Count: > 0 } histogram ? histogram.At(99) : null;

    public IReadOnlyDictionary<Metric, LatencyStats> ToStats()
    {
        var stats = new SortedDictionary<Metric, LatencyStats>();
        for (int i = 0; i < _histograms.Length; i++)
        {
            if (_histograms[i] is { Count: > 0 } histogram)
            {
                stats.Add((Metric)i, histogram.ToStats());
            }
        }

        return stats;
    }

    private void Add(Metric metric, TimeSpan value) => (_histograms[(int)metric] ??= new MicrosHistogram()).Record(value);
}
