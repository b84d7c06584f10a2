namespace MockServe.Server.Services;

/// <summary>
/// Finds a request's stop sequences in its generated text as it streams, across message boundaries, and cuts the
/// text just before the match, as OpenAI-style APIs leave the stop sequence out.
/// </summary>
internal sealed class StopSequenceMatcher
{
    /// <summary>Longest stop sequence the API accepts; the tail of sent text kept for matching is one shorter.</summary>
    public const int MaxLength = 256;

    private readonly string[] _stops;
    private readonly int _tailLength;
    private string _sentTail = "";

    public StopSequenceMatcher(IReadOnlyCollection<string> stops)
    {
        _stops = [.. stops];
        // A match that starts in text already sent ends in the new chunk: it starts at most (longest - 1) back.
        _tailLength = _stops.Length == 0 ? 0 : _stops.Max(s => s.Length) - 1;
    }

    /// <summary>
    /// Looks for a stop sequence in the text so far (the unsent <paramref name="chunk"/> after the tail of what was
    /// sent); when found, cuts the chunk just before it.
    /// </summary>
    /// <returns>True when a stop sequence matched.</returns>
    public bool TryCut(System.Text.StringBuilder chunk)
    {
        if (_stops.Length == 0)
        {
            return false;
        }

        string window = _sentTail + chunk;
        foreach (string stop in _stops)
        {
            int at = window.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0)
            {
                chunk.Length = Math.Max(0, at - _sentTail.Length);
                return true;
            }
        }

        return false;
    }

    /// <summary>Keeps the last characters sent, which a stop sequence could still straddle.</summary>
    public void Sent(string text)
    {
        if (_tailLength == 0)
        {
            return;
        }

        string tail = _sentTail + text;
        _sentTail = tail.Length > _tailLength ? tail[^_tailLength..] : tail;
    }
}
