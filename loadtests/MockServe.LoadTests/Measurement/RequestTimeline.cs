namespace MockServe.LoadTests.Measurement;

/// <summary>
/// Notes the moments of one stream as it runs and turns them into a <see cref="RequestSample"/>. One per stream,
/// used by one thread at a time; the moments come from the runner's clock as offsets from the run's start.
/// </summary>
public sealed class RequestTimeline
{
    private readonly List<TimeSpan> _gaps = [];
    private TimeSpan? _first;
    private TimeSpan? _last;

    /// <summary>Starts the timeline of a request the simulation meant to start at <paramref name="intendedStart"/>.</summary>
    public RequestTimeline(TimeSpan intendedStart, TimeSpan actualStart)
    {
        IntendedStart = intendedStart;
        ActualStart = actualStart;
    }

    /// <summary>When the request was meant to start.</summary>
    public TimeSpan IntendedStart { get; }

    /// <summary>When the call started.</summary>
    public TimeSpan ActualStart { get; }

    /// <summary>Chunks received so far.</summary>
    public int Chunks { get; private set; }

    /// <summary>Notes a chunk of tokens that arrived at <paramref name="at"/>.</summary>
    public void Chunk(TimeSpan at)
    {
        if (_last is { } previous)
        {
            _gaps.Add(at - previous);
        }

        _first ??= at;
        _last = at;
        Chunks++;
    }

    /// <summary>The sample of the call that ended at <paramref name="end"/>; <paramref name="template"/> carries the other fields.</summary>
    public RequestSample Complete(TimeSpan end, RequestSample template)
    {
        ArgumentNullException.ThrowIfNull(template);
        return template with
        {
            IntendedStart = IntendedStart,
            ActualStart = ActualStart,
            FirstTokenAt = _first,
            LastTokenAt = _last,
            End = end,
            ChunkGaps = _gaps.ToArray(),
        };
    }
}
