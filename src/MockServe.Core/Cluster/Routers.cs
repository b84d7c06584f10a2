namespace MockServe.Core.Cluster;

/// <summary>What a router sees of one replica when it places a turn.</summary>
public interface IReplicaView
{
    /// <summary>Requests in the replica's running batch.</summary>
    int Running { get; }

    /// <summary>Requests waiting for admission or swapped out.</summary>
    int Waiting { get; }

    /// <summary>Tokens of the session's history whose KV the replica holds (HBM or host memory); 0 if none.</summary>
    long CachedTokens(string sessionId);
}

/// <summary>Places each turn of a conversation on one of several replicas.</summary>
public interface IRouter
{
    /// <summary>The router's name as <c>--router</c> spells it.</summary>
    string Name { get; }

    /// <summary>The index of the replica that serves the turn of <paramref name="sessionId"/>.</summary>
    int Route(string sessionId, IReadOnlyList<IReplicaView> replicas);
}

/// <summary>The routers <c>--router</c> names.</summary>
public static class Routers
{
    /// <summary>
    /// A replica with requests waiting and a load at this multiple of the mean (the turn being placed included) or
    /// more has no room, for the routers that keep a session where its history is.
    /// </summary>
    public const double LoadBound = 1.25;

    public static IReadOnlyList<string> Names { get; } = ["round-robin", "least-loaded", "session-affinity", "prefix-aware"];

    /// <summary>A fresh router by name; null for a name not in <see cref="Names"/>.</summary>
    public static IRouter? Create(string name) => name switch
    {
        "round-robin" => new RoundRobinRouter(),
        "least-loaded" => new LeastLoadedRouter(),
        "session-affinity" => new SessionAffinityRouter(),
        "prefix-aware" => new PrefixAwareRouter(),
        _ => null,
    };

    internal static int Load(IReplicaView replica) => replica.Running + replica.Waiting;

    /// <summary>
    /// Whether the replica can take the turn: its batch admits it now (nothing waits), or it is under the bound.
    /// Without the first rule a bound on small loads (a mean of 2 gives 3) would move sessions off replicas that
    /// would have served them at once.
    /// </summary>
    internal static bool HasRoom(IReplicaView replica, int capacity) => replica.Waiting == 0 || Load(replica) < capacity;

    /// <summary>The load bound: <see cref="LoadBound"/> x the mean after placing the turn, rounded up.</summary>
    internal static int Capacity(IReadOnlyList<IReplicaView> replicas)
    {
        long total = 1;
        foreach (var replica in replicas)
        {
            total += Load(replica);
        }

        return (int)Math.Ceiling(LoadBound * total / replicas.Count);
    }
}

/// <summary>Each turn to the next replica in turn, whatever it holds.</summary>
public sealed class RoundRobinRouter : IRouter
{
    private int _next;

    public string Name => "round-robin";

    public int Route(string sessionId, IReadOnlyList<IReplicaView> replicas)
    {
        int chosen = _next % replicas.Count;
        _next = chosen + 1;
        return chosen;
    }
}

/// <summary>The replica with the fewest requests running and waiting; ties go to the next after the last chosen.</summary>
public sealed class LeastLoadedRouter : IRouter
{
    private int _last = -1;

    public string Name => "least-loaded";

    public int Route(string sessionId, IReadOnlyList<IReplicaView> replicas)
    {
        int best = -1;
        for (int k = 1; k <= replicas.Count; k++)
        {
            int i = (_last + k) % replicas.Count;
            if (best < 0 || Routers.Load(replicas[i]) < Routers.Load(replicas[best]))
            {
                best = i;
            }
        }

        _last = best;
        return best;
    }
}

/// <summary>
/// Consistent hashing with bounded load (Mirrokni, Thorup and Zadimoghaddam, 2018): a session hashes to a point on
/// a ring of virtual nodes and goes to the first replica from there with room (<see cref="Routers.HasRoom"/>). So a
/// session stays on its replica while that replica has room, and adding or losing a replica moves only the sessions
/// that hashed to it.
/// </summary>
public sealed class SessionAffinityRouter : IRouter
{
    private const int VirtualNodes = 64;
    private (ulong Point, int Replica)[] _ring = [];

    public string Name => "session-affinity";

    public int Route(string sessionId, IReadOnlyList<IReplicaView> replicas)
    {
        if (_ring.Length != replicas.Count * VirtualNodes)
        {
            _ring = BuildRing(replicas.Count);
        }

        int capacity = Routers.Capacity(replicas);
        int start = FirstAtOrAfter(Fnv1a(sessionId));
        for (int k = 0; k < _ring.Length; k++)
        {
            int replica = _ring[(start + k) % _ring.Length].Replica;
            if (Routers.HasRoom(replicas[replica], capacity))
            {
                return replica;
            }
        }

        // Unreachable: the bound is above the mean, so some replica is under it.
        return _ring[start].Replica;
    }

    /// <summary>FNV-1a, 64 bits: stable across processes, unlike string.GetHashCode.</summary>
    internal static ulong Fnv1a(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        // FNV mixes its last characters weakly; a finaliser (MurmurHash3's) spreads them over the ring.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return hash;
    }

    private static (ulong, int)[] BuildRing(int replicas)
    {
        var ring = new (ulong Point, int Replica)[replicas * VirtualNodes];
        for (int r = 0; r < replicas; r++)
        {
            for (int v = 0; v < VirtualNodes; v++)
            {
                ring[(r * VirtualNodes) + v] = (Fnv1a($"replica-{r}#{v}"), r);
            }
        }

        Array.Sort(ring);
        return ring;
    }

    private int FirstAtOrAfter(ulong point)
    {
        int lo = 0, hi = _ring.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (_ring[mid].Point < point)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo % _ring.Length;
    }
}

/// <summary>
/// KV-cache-aware routing, as llm-d's scheduler scores prefix hits: the turn goes to the replica that holds the
/// longest cached prefix of its conversation among those with room (<see cref="Routers.HasRoom"/>); a turn no such
/// replica has cached (a new conversation, or one whose KV was dropped) goes to the least loaded.
/// </summary>
public sealed class PrefixAwareRouter : IRouter
{
    private readonly LeastLoadedRouter _fallback = new();

    public string Name => "prefix-aware";

    public int Route(string sessionId, IReadOnlyList<IReplicaView> replicas)
    {
        int capacity = Routers.Capacity(replicas);
        int best = -1;
        long bestTokens = 0;
        for (int i = 0; i < replicas.Count; i++)
        {
            long tokens = replicas[i].CachedTokens(sessionId);
            if (tokens > bestTokens && Routers.HasRoom(replicas[i], capacity))
            {
                (best, bestTokens) = (i, tokens);
            }
        }

        return best >= 0 ? best : _fallback.Route(sessionId, replicas);
    }
}
