using Grpc.Core;

namespace MockServe.Benchmarks.Streaming.Load;

/// <summary>
/// One user's counts. Each user owns its tally, so the hot path needs no shared counter; the runner adds them up
/// after the users have stopped.
/// </summary>
internal sealed class UserTally
{
    /// <summary>Messages received in the window, from any request.</summary>
    public long Messages { get; set; }

    /// <summary>Tokens received in the window, from any request.</summary>
    public long Tokens { get; set; }

    /// <summary>Completions received in the window.</summary>
    public long Completed { get; set; }

    /// <summary>Server-side gaps between consecutive token offsets of measured requests, in nanoseconds of model time.</summary>
    public long GapNanos { get; set; }

    public long Gaps { get; set; }

    /// <summary>First-token offsets of measured requests, in nanoseconds of model time.</summary>
    public long TtftNanos { get; set; }

    public long FirstTokens { get; set; }

    public Dictionary<StatusCode, long> Errors { get; } = [];

    public void Add(UserTally other)
    {
        Messages += other.Messages;
        Tokens += other.Tokens;
        Completed += other.Completed;
        GapNanos += other.GapNanos;
        Gaps += other.Gaps;
        TtftNanos += other.TtftNanos;
        FirstTokens += other.FirstTokens;
        foreach (var (code, count) in other.Errors)
        {
            Errors[code] = Errors.GetValueOrDefault(code) + count;
        }
    }
}
