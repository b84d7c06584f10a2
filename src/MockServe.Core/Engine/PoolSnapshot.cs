namespace MockServe.Core.Engine;

/// <summary>
/// The live state of the KV pools and queues. <see cref="HbmBlocksIdle"/> are the used HBM blocks that idle
/// sessions hold: cached history that eviction may swap out or drop.
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
    int SwappedRequests)
{
    public double HbmBytesUsed => HbmBlocksUsed * BlockBytes;

    public double HostBytesUsed => HostBlocksUsed * BlockBytes;

    public double HbmBytesTotal => HbmBlocksTotal * BlockBytes;

    public double HostBytesTotal => HostBlocksTotal * BlockBytes;
}
