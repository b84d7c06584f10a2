using System.Text;

namespace MockServe.Server.Services;

/// <summary>
/// Finds a request's stop sequences in its generated text as it streams, across message boundaries, and cuts the
/// text just before the match, as OpenAI-style APIs leave the stop sequence out.
/// </summary>
internal sealed class StopSequenceMatcher(IReadOnlyList<string> stops)
{
    /// <summary>Longest stop sequence the API accepts; the tail of sent text kept for matching is this long.</summary>
    public const int MaxLength = 256;

    private readonly StringBuilder _sentTail = new();

    public bool IsEmpty => stops.Count == 0;

    /// <summary>
    /// Looks for a stop sequence in the text so far (the unsent <paramref name="chunk"/> after the tail of what was
    /// sent); when found, cuts the chunk just before it.
    /// </summary>
    /// <returns>True when a stop sequence matched.</returns>
    public bool TryCut(StringBuilder chunk)
    {
        if (stops.Count == 0)
        {
            return false;
        }

        string window = _sentTail.ToString() + chunk;
        foreach (string stop in stops)
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
        _sentTail.Append(text);
        if (_sentTail.Length > MaxLength)
        {
            _sentTail.Remove(0, _sentTail.Length - MaxLength);
        }
    }
}
