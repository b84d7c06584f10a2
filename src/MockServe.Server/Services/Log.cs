using Microsoft.Extensions.Logging;

namespace MockServe.Server.Services;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "request {RequestId} session {SessionId} {FinishReason}: prompt {PromptTokens} ({CachedTokens} cached, cache {CacheState}), {CompletionTokens} tokens; ttft {Ttft:F3}s = queue {Queue:F3} + swap-in {SwapIn:F3} + prefill {Prefill:F3}; decode {Decode:F3}s; {Preemptions} preemptions (model seconds)")]
    public static partial void RequestFinished(
        ILogger logger, string requestId, string sessionId, string finishReason, long promptTokens, long cachedTokens, string cacheState,
        long completionTokens, double ttft, double queue, double swapIn, double prefill, double decode, int preemptions);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "request {RequestId} ended early: {Reason}")]
    public static partial void RequestEnded(ILogger logger, string requestId, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "serving {Deployment} on {GrpcAddress} (metrics on {MetricsAddress}, OpenAI HTTP {HttpAddress}), scheduler {Scheduler}, time scale {TimeScale}")]
    public static partial void Serving(ILogger logger, string deployment, string grpcAddress, string metricsAddress, string httpAddress, string scheduler, double timeScale);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "draining: {InFlight} streams in flight, waiting up to {Seconds} s")]
    public static partial void Draining(ILogger logger, int inFlight, double seconds);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "drain over after {Seconds} s: ending {InFlight} streams still open with UNAVAILABLE")]
    public static partial void DrainEnded(ILogger logger, int inFlight, double seconds);
}
