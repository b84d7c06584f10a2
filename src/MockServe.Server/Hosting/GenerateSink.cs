using System.Threading.Channels;

using MockServe.Core.Engine;

namespace MockServe.Server.Hosting;

/// <summary>One token due, or the end of the request, at its model time.</summary>
public readonly record struct SinkItem(double Time, RequestResult? Result);

/// <summary>
/// Carries one request's events from the engine's thread to its stream writer. The channel holds at most
/// max_tokens tokens and the end, so the engine never waits on a slow reader: the reader falls behind and
/// sends what is due in one message when it catches up.
/// </summary>
public sealed class GenerateSink
{
    private readonly Channel<SinkItem> _channel;

    public GenerateSink(long maxTokens)
    {
        _channel = Channel.CreateBounded<SinkItem>(new BoundedChannelOptions((int)Math.Min(maxTokens + 2, int.MaxValue))
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Model time the engine queued the request.</summary>
    public double ArrivalTime { get; private set; }

    public bool IsFinished { get; private set; }

    public ChannelReader<SinkItem> Reader => _channel.Reader;

    internal void OnEvent(in EngineEvent e)
    {
        switch (e.Kind)
        {
            case EngineEventKind.Queued:
                ArrivalTime = e.Time;
                break;
            case EngineEventKind.Token:
                Write(new SinkItem(e.Time, null));
                break;
            case EngineEventKind.Finished:
                IsFinished = true;
                Write(new SinkItem(e.Time, e.Result));
                _channel.Writer.TryComplete();
                break;
        }
    }

    private void Write(SinkItem item)
    {
        if (!_channel.Writer.TryWrite(item))
        {
            // The capacity covers every token the engine may emit plus the end; more is an engine bug.
            throw new InvalidOperationException($"stream buffer overflow at model time {item.Time}");
        }
    }
}
