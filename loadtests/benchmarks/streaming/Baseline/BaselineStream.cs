using System.Threading.Channels;

namespace MockServe.Benchmarks.Streaming.Baseline;

/// <summary>
/// One Generate stream as the ticker sees it. The ticker writes each token's due timestamp into a bounded channel
/// sized for every token the request may get, so it never waits on a slow reader (as the mock's engine never does);
/// the stream's single writer drains it.
/// </summary>
internal sealed class BaselineStream
{
    private readonly Channel<long> _tokens;
    private readonly long _maxTokens;
    private long _emitted;
    private volatile bool _cancelled;

    public BaselineStream(long arrival, long maxTokens)
    {
        Arrival = arrival;
        _maxTokens = maxTokens;
        _tokens = Channel.CreateBounded<long>(new BoundedChannelOptions((int)maxTokens + 1)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Timestamp the request arrived; token offsets count from here.</summary>
    public long Arrival { get; }

    public ChannelReader<long> Tokens => _tokens.Reader;

    /// <summary>The client went away: the ticker drops the stream at its next tick.</summary>
    public void Cancel() => _cancelled = true;

    /// <summary>Called by the ticker only. Returns false once the stream needs no more ticks.</summary>
    public bool Step(long due, long ttftTicks)
    {
        if (_cancelled)
        {
            _tokens.Writer.TryComplete();
            return false;
        }

        if (due - Arrival < ttftTicks)
        {
            return true;
        }

        // Capacity is max_tokens + 1, so a write never fails.
        _tokens.Writer.TryWrite(due);
        if (++_emitted < _maxTokens)
        {
            return true;
        }

        _tokens.Writer.TryComplete();
        return false;
    }

    /// <summary>The server is stopping: the writer ends the stream.</summary>
    public void Abandon() => _tokens.Writer.TryComplete(new OperationCanceledException("the baseline server is stopping"));
}
