namespace MockServe.Core.Engine;

public enum EngineEventKind
{
    /// <summary>Accepted into the waiting queue.</summary>
    Queued,

    /// <summary>Given its KV blocks; Count = cached tokens reused.</summary>
    Admitted,

    /// <summary>KV starts coming back from host; Bytes = bytes moved, Duration = transfer time.</summary>
    SwapInStart,

    SwapInEnd,

    /// <summary>KV of an idle session or a preempted sequence moved to host; Bytes, Duration.</summary>
    SwapOut,

    /// <summary>An idle session's KV dropped to make room; Count = tokens lost.</summary>
    Dropped,

    /// <summary>A prompt chunk prefilled in the step that ends at Time; Count = chunk tokens.</summary>
    PrefillChunk,

    /// <summary>One output token; Count = its 1-based index, Gap = model seconds since the previous token (the first: since arrival).</summary>
    Token,

    /// <summary>Evicted from the running batch; Detail = swap or recompute.</summary>
    Preempted,

    /// <summary>Done, cancelled included; Result holds the breakdown.</summary>
    Finished,

    /// <summary>
    /// An idle session forgotten before its TTL to make room for a new one (<see cref="EngineOptions.MaxSessions"/>):
    /// its KV freed wherever it was; Count = tokens of KV freed, Bytes = their bytes, Detail = the reason (limit).
    /// </summary>
    SessionEvicted,
}

/// <summary>One timestamped event of a request or session, in model seconds.</summary>
public readonly record struct EngineEvent(
    double Time,
    EngineEventKind Kind,
    InferenceRequest? Request,
    string? SessionId,
    long Count = 0,
    double Bytes = 0,
    double Duration = 0,
    string? Detail = null,
    RequestResult? Result = null,
    double Gap = 0);

/// <summary>One engine iteration: what ran and how long each phase took.</summary>
/// <param name="DecodeKvTokens">Sum over the decoding sequences of the tokens cached when the step began (each one's
/// context): divided by <paramref name="DecodeSequences"/>, the step's mean decode context, which calibration needs.</param>
public readonly record struct StepSummary(
    double Start,
    double End,
    int DecodeSequences,
    long PrefillTokens,
    double SwapSeconds,
    double ComputeSeconds,
    int Running,
    int Waiting,
    double HostOnlySeconds = 0,
    long DecodeKvTokens = 0)
{
    // The step's GPU time (its compute phase less the host time the GPU waited for, HostOnlySeconds) is one roofline
    // time for all its tokens; sharing it by token count is the simple split (a decode token reads more KV per FLOP
    // than a prefill token, so decode's share is a lower bound).

    /// <summary>The prefill tokens' share of the compute time.</summary>
    public double PrefillSeconds => Share(PrefillTokens);

    /// <summary>The decode tokens' share of the compute time.</summary>
    public double DecodeSeconds => Share(DecodeSequences);

    private double Share(long tokens) =>
        PrefillTokens + DecodeSequences > 0 ? (ComputeSeconds - HostOnlySeconds) * tokens / (PrefillTokens + DecodeSequences) : 0;
}

/// <summary>
/// Receives the engine's events, synchronously, on the engine's thread and with no lock held: return quickly, never
/// block. An exception thrown here is caught, counted and reported by the engine, which goes on.
/// </summary>
public interface IEngineObserver
{
    void OnEvent(in EngineEvent e);

    void OnStep(in StepSummary step);
}

/// <summary>
/// Fans events out to several observers in order. One that throws does not keep the event from the others; the
/// first exception is thrown again once all have seen it.
/// </summary>
public sealed class CompositeObserver(params IEngineObserver[] observers) : IEngineObserver
{
    public void OnEvent(in EngineEvent e)
    {
        Exception? first = null;
        foreach (var o in observers)
        {
            try
            {
                o.OnEvent(e);
            }
            catch (Exception ex)
            {
                first ??= ex;
            }
        }

        Rethrow(first);
    }

    public void OnStep(in StepSummary step)
    {
        Exception? first = null;
        foreach (var o in observers)
        {
            try
            {
                o.OnStep(step);
            }
            catch (Exception ex)
            {
                first ??= ex;
            }
        }

        Rethrow(first);
    }

    private static void Rethrow(Exception? ex)
    {
        if (ex is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex);
        }
    }
}
