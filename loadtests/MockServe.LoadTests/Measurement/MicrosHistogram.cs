using HdrHistogram;

namespace MockServe.LoadTests.Measurement;

/// <summary>
/// An HdrHistogram of microseconds from 1 µs to 24 h at 3 significant digits (0.1%), plus the exact max.
/// Not thread-safe: its owner serialises access.
/// </summary>
internal sealed class MicrosHistogram
{
    internal const long HighestMicros = 24L * 3600 * 1_000_000;

    private readonly LongHistogram _histogram = new(1, HighestMicros, 3);
    private long _maxMicros;

    public long Count => _histogram.TotalCount;

    /// <summary>Records a duration; negative ones count as 0 and ones beyond 24 h as 24 h, so a record never throws.</summary>
    public void Record(TimeSpan value)
    {
        long micros = Math.Clamp(value.Ticks / TimeSpan.TicksPerMicrosecond, 0, HighestMicros);
        _histogram.RecordValue(micros);
        _maxMicros = Math.Max(_maxMicros, micros);
    }

    public LatencyStats ToStats() => new(
        Count,
        Micros(Count == 0 ? 0 : (long)Math.Round(_histogram.GetMean())),
        At(50),
        At(90),
        At(95),
        At(99),
        At(99.9),
        Micros(_maxMicros));

    public TimeSpan At(double percentile) =>
        Count == 0 ? TimeSpan.Zero : Micros(Math.Min(_histogram.GetValueAtPercentile(percentile), _maxMicros));

    private static TimeSpan Micros(long micros) => TimeSpan.FromTicks(micros * TimeSpan.TicksPerMicrosecond);
}
