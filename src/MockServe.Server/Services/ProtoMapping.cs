using Google.Protobuf.WellKnownTypes;

using MockServe.Contracts.V1;
using MockServe.Core.CostModel;
using MockServe.Core.Engine;

namespace MockServe.Server.Services;

/// <summary>Core types to proto messages.</summary>
internal static class ProtoMapping
{
    /// <summary>Model seconds as a Duration, to the nanosecond (a TimeSpan would round to 100 ns).</summary>
    public static Duration Seconds(double seconds)
    {
        long nanos = (long)Math.Round(Math.Max(0, seconds) * 1e9);
        return new Duration { Seconds = nanos / 1_000_000_000, Nanos = (int)(nanos % 1_000_000_000) };
    }

    public static Contracts.V1.CacheState ToProto(this Core.Engine.CacheState state) => state switch
    {
        Core.Engine.CacheState.New => Contracts.V1.CacheState.New,
        Core.Engine.CacheState.Hot => Contracts.V1.CacheState.Hot,
        Core.Engine.CacheState.Host => Contracts.V1.CacheState.Host,
        Core.Engine.CacheState.Miss => Contracts.V1.CacheState.Miss,
        _ => Contracts.V1.CacheState.Unspecified,
    };

    public static Timing ToTiming(this RequestResult r) => new()
    {
        TimeToFirstToken = Seconds(r.TimeToFirstToken),
        Queue = Seconds(r.QueueSeconds),
        SwapIn = Seconds(r.SwapInSeconds),
        Prefill = Seconds(r.PrefillSeconds),
        Decode = Seconds(r.DecodeSeconds),
        Preemptions = r.Preemptions,
        CacheState = r.CacheState.ToProto(),
        EndToEnd = Seconds(r.EndToEnd),
    };

    public static EstimateResponse ToProto(this CostSummary s) => new()
    {
        KvBytesPerToken = s.KvBytesPerToken,
        KvBytes = s.KvBytes,
        WeightBytes = s.WeightBytes,
        KvCapacityBytes = s.KvCapacityBytes,
        MaxConcurrentUsers = s.MaxConcurrentUsers,
        PrefillSeconds = s.PrefillSeconds,
        DecodeSecondsPerToken = s.DecodeSecondsPerToken,
        DecodeSeconds = s.DecodeSeconds,
        ContextSwitchSeconds = s.ContextSwitchSeconds,
    };

    public static Contracts.V1.ModelProfile ToProto(this Core.Profiles.ModelProfile m) => new()
    {
        Id = m.Id,
        Name = m.Name,
        Layers = m.Layers,
        HiddenSize = m.HiddenSize,
        QueryHeads = m.QueryHeads,
        KvHeads = m.KvHeads,
        HeadDim = m.HeadDim,
        Attention = m.Attention.ToString().ToLowerInvariant(),
        TotalParameters = m.TotalParameters,
        ActiveParameters = m.ActiveParameters,
        MaxContext = m.MaxContext,
        Source = m.Source,
    };

    public static GpuProfile ToProto(this Core.Profiles.HardwareProfile g) => new()
    {
        Id = g.Id,
        Name = g.Name,
        HbmBytes = g.HbmBytes,
        HbmBandwidth = g.HbmBandwidth,
        PeakFlops = g.PeakFlops,
        PeakFlopsFp8 = g.PeakFlopsFp8,
        HostLinkBandwidth = g.HostLinkBandwidth,
        HostMemoryBytes = g.HostMemoryBytes,
        Source = g.Source,
    };

    public static EfficiencyInfo ToProto(this Core.Profiles.Efficiency e) => new()
    {
        PrefillComputeUtilization = e.PrefillComputeUtilization,
        DecodeBandwidthUtilization = e.DecodeBandwidthUtilization,
        StepOverheadSeconds = e.StepOverheadSeconds,
        StepOverheadPerSequenceSeconds = e.StepOverheadPerSequenceSeconds,
        OverlapHostTime = e.OverlapHostTime,
        RequestOverheadSeconds = e.RequestOverheadSeconds,
        FinishOverheadSeconds = e.FinishOverheadSeconds,
        Source = e.Source,
    };

    public static PoolState ToProto(this PoolSnapshot p) => new()
    {
        HbmKvBytesUsed = p.HbmBytesUsed,
        HbmKvBytesIdle = p.HbmBlocksIdle * p.BlockBytes,
        HbmKvBytesPrefixFree = p.PrefixBlocksFree * p.BlockBytes,
        HbmKvBytesPrefixShared = p.PrefixBlocksShared * p.BlockBytes,
        HbmKvBytesTotal = p.HbmBytesTotal,
        HostKvBytesUsed = p.HostBytesUsed,
        HostKvBytesTotal = p.HostBytesTotal,
        SessionsResident = p.SessionsResident,
        SessionsSwapped = p.SessionsSwapped,
        SessionsTotal = p.SessionsTotal,
        RequestsRunning = p.Running,
        RequestsWaiting = p.Waiting,
        RequestsSwapped = p.SwappedRequests,
    };

    /// <summary>The pools of several replicas as one: every byte, session and request count added up.</summary>
    public static PoolState Sum(IEnumerable<PoolState> pools)
    {
        var sum = new PoolState();
        foreach (var p in pools)
        {
            sum.HbmKvBytesUsed += p.HbmKvBytesUsed;
            sum.HbmKvBytesIdle += p.HbmKvBytesIdle;
            sum.HbmKvBytesPrefixFree += p.HbmKvBytesPrefixFree;
            sum.HbmKvBytesPrefixShared += p.HbmKvBytesPrefixShared;
            sum.HbmKvBytesTotal += p.HbmKvBytesTotal;
            sum.HostKvBytesUsed += p.HostKvBytesUsed;
            sum.HostKvBytesTotal += p.HostKvBytesTotal;
            sum.SessionsResident += p.SessionsResident;
            sum.SessionsSwapped += p.SessionsSwapped;
            sum.SessionsTotal += p.SessionsTotal;
            sum.RequestsRunning += p.RequestsRunning;
            sum.RequestsWaiting += p.RequestsWaiting;
            sum.RequestsSwapped += p.RequestsSwapped;
        }

        return sum;
    }
}
