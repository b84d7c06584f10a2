using Grpc.Core;

using MockServe.Contracts.V1;

namespace MockServe.LoadTests.Measurement;

/// <summary>Fills a <see cref="RequestSample"/> from what a <c>mockserve.v1</c> stream returned.</summary>
public static class GrpcSamples
{
    /// <summary>The sample with the usage, cache state and timing breakdown of a stream's <see cref="GenerateComplete"/>.</summary>
    public static RequestSample WithComplete(this RequestSample sample, GenerateComplete complete)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(complete);
        var usage = complete.Usage ?? new Usage();
        return sample with
        {
            OutputTokens = usage.CompletionTokens,
            PromptTokens = usage.PromptTokens,
            CachedTokens = usage.CachedTokens,
            RecomputedTokens = usage.RecomputedTokens,
            CacheState = complete.Timing is { } timing ? TurnCacheStates.FromProto(timing.CacheState) : TurnCacheState.Unknown,
            Server = complete.Timing is { } t ? ServerTiming.FromProto(t) : null,
        };
    }

    /// <summary>The sample of a call that ended with <paramref name="status"/>: failed unless the status is OK.</summary>
    public static RequestSample WithStatus(this RequestSample sample, StatusCode status)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return sample with
        {
            Status = StatusName(status),
            Ok = status == StatusCode.OK,
        };
    }

    /// <summary>The proto name of a status code, as reports and metrics spell it: ResourceExhausted is RESOURCE_EXHAUSTED.</summary>
    public static string StatusName(StatusCode code) => MockServe.Server.Protocol.StatusNames.Of(code);
}
