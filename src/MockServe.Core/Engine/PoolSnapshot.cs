namespace MockServe.Core.Engine;

/// <summary>
/// The live state of the KV pools and queues. <see cref="HbmBlocksIdle"/> are the used HBM blocks that idle
/// sessions hold: cached history that eviction may swap out or drop. As in vLLM, prefix-cached blocks no request
/// reads count as free, not used: <see cref="PrefixBlocksFree"/> says how many of the free blocks still hold a
/// reusable prefix; <see cref="PrefixBlocksInUse"/> are cached blocks running requests read (counted in used), of
/// which <see cref="PrefixBlocksShared"/> are read by two or more at once.
/// </summary>
public sealed record PoolSnapshot(
    double Time,
    long BlockSize,
    double BlockBytes,
    long HbmBlocksTotal,
    long HbmBlocksUsed,
    long HbmBlocksIdle,
    long HostBlocksTotal,
    long HostBlocksUsed,
    int SessionsResident,
    int SessionsSwapped,
    int SessionsTotal,
    int Running,
    int Waiting,
    int SwappedRequests,
    long PrefixBlocksFree = 0,
    long PrefixBlocksInUse = 0,
    long PrefixBlocksShared = 0)
{
    public double HbmBytesUsed => HbmBlocksUsed * BlockBytes;

    public double HostBytesUsed => HostBlocksUsed * BlockBytes;

    public double HbmBytesTotal => HbmBlocksTotal * BlockBytes;

    public double HostBytesTotal => HostBlocksTotal * BlockBytes;
}
