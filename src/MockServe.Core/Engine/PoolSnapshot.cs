namespace MockServe.Core.Engine;

/// <summary>The live state of the KV pools and queues.</summary>
public sealed record PoolSnapshot(
    double Time,
    long BlockSize,
    double BlockBytes,
    long HbmBlocksTotal,
    long HbmBlocksUsed,
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
