using System.Threading.Channels;

namespace MockServe.Core.Engine;

/// <summary>One output token at its model time (<see cref="Result"/> null), or the request's end with its result.</summary>
public readonly record struct RequestEvent(double Time, long Index, RequestResult? Result)
{
    public bool IsEnd => Result is not null;
}

/// <summary>Where a handle's Cancel and Stop go: straight into the engine, or through the real-time loop's inbox.</summary>
internal interface IRequestControl
{
    void Cancel(RequestHandle handle);

    void Stop(RequestHandle handle);
}

/// <summary>
/// A submitted request as its caller holds it: its events in order (each token at its model time, then the end
/// with the result), and the means to cancel or stop it. The reader is bounded at max_tokens tokens plus the end,
/// which is all the engine ever writes, so the engine never waits on a slow reader.
/// </summary>
public sealed class RequestHandle
{
    private static readonly ChannelReader<RequestEvent> NoEvents = CreateNoEvents();

    private readonly Channel<RequestEvent>? _events;
    private readonly IRequestControl _control;
    private RequestResult? _result;

    internal RequestHandle(InferenceRequest request, double arrivalTime, IRequestControl control, bool streamEvents)
    {
        Request = request;
        ArrivalTime = arrivalTime;
        _control = control;
        if (streamEvents)
        {
            _events = Channel.CreateBounded<RequestEvent>(new BoundedChannelOptions((int)Math.Min(request.MaxTokens + 1, int.MaxValue))
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
        }
    }

    public InferenceRequest Request { get; }

    /// <summary>Model time the request reached the engine.</summary>
    public double ArrivalTime { get; }

    /// <summary>The request's events; empty and completed for a request submitted without event streaming.</summary>
    public ChannelReader<RequestEvent> Events => _events?.Reader ?? NoEvents;

    /// <summary>The request's result once it has ended (finished, stopped or cancelled).</summary>
    public RequestResult? Result => Volatile.Read(ref _result);

    public bool IsFinished => Result is not null;

    /// <summary>Ends the request wherever it is and frees its KV; nothing happens once it has ended.</summary>
    public void Cancel() => _control.Cancel(this);

    /// <summary>Ends the request as end-of-sequence would (a stop sequence matched): its session keeps the KV.</summary>
    public void Stop() => _control.Stop(this);

    internal Sequence? Sequence { get; set; }

    internal void WriteToken(double time, long index)
    {
        if (_events is not null && !_events.Writer.TryWrite(new RequestEvent(time, index, null)))
        {
            // The capacity covers every token the engine may emit plus the end; more is an engine bug.
            throw new InvalidOperationException($"request {Request.RequestId}: event buffer overflow at token {index}");
        }
    }

    internal void End(RequestResult result)
    {
        Volatile.Write(ref _result, result);
        if (_events is not null)
        {
            _events.Writer.TryWrite(new RequestEvent(result.FinishTime, result.CompletionTokens, result));
            _events.Writer.TryComplete();
        }
    }

    private static ChannelReader<RequestEvent> CreateNoEvents()
    {
        var channel = Channel.CreateBounded<RequestEvent>(1);
        channel.Writer.TryComplete();
        return channel.Reader;
    }
}
