namespace MockServe.Core.CostModel;

/// <summary>The cost model's answer for one context length, as `mockserve estimate` prints it.</summary>
public sealed record CostSummary(
    double KvBytesPerToken,
    double KvBytes,
    double WeightBytes,
    double KvCapacityBytes,
    long MaxConcurrentUsers,
    double PrefillSeconds,
    double DecodeSecondsPerToken,
    double DecodeSeconds,
    double ContextSwitchSeconds);
