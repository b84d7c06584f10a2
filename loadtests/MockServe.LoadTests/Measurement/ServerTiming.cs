using MockServe.Contracts.V1;

namespace MockServe.LoadTests.Measurement;

/// <summary>The server's own model-time breakdown of a turn (<c>GenerateComplete.timing</c>).</summary>
/// <param name="Queue">Waiting for admission, other sessions' swaps and step slots.</param>
/// <param name="SwapIn">Bringing the session's KV cache back from host memory.</param>
/// <param name="Prefill">Prefilling the prompt.</param>
/// <param name="Decode">First token to last token.</param>
/// <param name="TimeToFirstToken">The server's TTFT: queue + swap-in + prefill.</param>
/// <param name="EndToEnd">The server's model time for the whole turn: last token minus arrival.</param>
/// <param name="Preemptions">Times the turn was evicted from the running batch.</param>
public readonly record struct ServerTiming(
    TimeSpan Queue,
    TimeSpan SwapIn,
    TimeSpan Prefill,
    TimeSpan Decode,
    TimeSpan TimeToFirstToken,
    TimeSpan EndToEnd,
    int Preemptions)
{
    /// <summary>The breakdown a <c>mockserve.v1</c> server sent.</summary>
    public static ServerTiming FromProto(Timing timing)
    {
        ArgumentNullException.ThrowIfNull(timing);
        return new ServerTiming(
            Span(timing.Queue),
            Span(timing.SwapIn),
            Span(timing.Prefill),
            Span(timing.Decode),
            Span(timing.TimeToFirstToken),
            Span(timing.EndToEnd),
            timing.Preemptions);
    }

    private static TimeSpan Span(Google.Protobuf.WellKnownTypes.Duration? duration) =>
        duration is null ? TimeSpan.Zero : duration.ToTimeSpan();
}
