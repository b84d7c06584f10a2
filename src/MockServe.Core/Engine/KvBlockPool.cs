namespace MockServe.Core.Engine;

/// <summary>A count of fixed-size KV blocks in one memory tier; it never goes negative or over its total.</summary>
internal sealed class KvBlockPool(string tier, long total)
{
    public long Total { get; } = total;

    public long Used { get; private set; }

    public long Free => Total - Used;

    public bool TryAllocate(long blocks)
    {
        if (blocks > Free)
        {
            return false;
        }

        Allocate(blocks);
        return true;
    }

    public void Allocate(long blocks)
    {
        if (blocks < 0 || blocks > Free)
        {
            throw new InvalidOperationException($"{tier} KV pool: cannot allocate {blocks} blocks, {Free} of {Total} free");
        }

        Used += blocks;
    }

    public void Release(long blocks)
    {
        if (blocks < 0 || blocks > Used)
        {
            throw new InvalidOperationException($"{tier} KV pool: cannot release {blocks} blocks, {Used} in use");
        }

        Used -= blocks;
    }
}
