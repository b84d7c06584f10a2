namespace MockServe.Server.Protocol;

/// <summary>
/// At most <c>perSecond</c> log lines a second, so that a flood of bad calls cannot flood the log; the lines left
/// out are counted and reported with the next line that is written.
/// </summary>
internal sealed class LogBudget(TimeProvider time, int perSecond)
{
    private readonly object _gate = new();
    private long _windowStart = long.MinValue;
    private int _used;
    private long _suppressed;

    /// <summary>True if a line may be written now; <paramref name="suppressed"/> is how many were left out since the last one.</summary>
    public bool TryTake(out long suppressed)
    {
        long now = time.GetTimestamp();
        lock (_gate)
        {
            if (_windowStart == long.MinValue || time.GetElapsedTime(_windowStart, now) >= TimeSpan.FromSeconds(1))
            {
                _windowStart = now;
                _used = 0;
            }

            if (_used < perSecond)
            {
                _used++;
                suppressed = _suppressed;
                _suppressed = 0;
                return true;
            }

            _suppressed++;
            suppressed = 0;
            return false;
        }
    }
}
