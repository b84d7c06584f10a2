namespace MockServe.LoadTests.Measurement;

/// <summary>A latency measured per request (or, for <see cref="ChunkGap"/>, pooled over every chunk of every request).</summary>
/// <remarks>Definitions follow the majority of LLM load tools (FIELD-NOTES §3); the README repeats them.</remarks>
public enum Metric
{
    /// <summary>Time to first token: first streamed token minus the intended issue moment, so client-side queueing counts.</summary>
    Ttft,

    /// <summary>First streamed token minus the moment the call actually started (the server-facing TTFT).</summary>
    TtftFromActual,

    /// <summary>Inter-token latency: (E2E − TTFT) / (OSL − 1); vLLM calls it TPOT. Undefined when OSL &lt; 2.</summary>
    Itl,

    /// <summary>End to end: last token (or the end of a call that streamed none) minus the intended issue moment.</summary>
    E2e,

    /// <summary>Every gap between consecutive chunk arrivals, pooled over all requests.</summary>
    ChunkGap,

    /// <summary>The longest gap between consecutive chunks of one request: the worst stall it saw.</summary>
    WorstGap,

    /// <summary>Actual start minus intended start: how late the driver issued the request (coordinated omission shows here).</summary>
    ScheduleLateness,

    /// <summary>A scenario's own latency (NBomber's <c>Response.Ok(latency)</c>), for non-LLM scenarios.</summary>
    Latency,

    /// <summary>The server's queue time (model time: at a time scale other than 1, times <c>time_scale</c> gives wall time).</summary>
    ServerQueue,

    /// <summary>The server's swap-in time, bringing the session's KV back from host memory (model time).</summary>
    ServerSwapIn,

    /// <summary>The server's prefill time (model time).</summary>
    ServerPrefill,

    /// <summary>The server's decode time, first token to last (model time).</summary>
    ServerDecode,
}

/// <summary>Names of <see cref="Metric"/> as they appear in <c>--slo</c> keys, reports and the CSV.</summary>
public static class MetricNames
{
    private static readonly string[] Names = [
        "ttft", "ttft-actual", "itl", "e2e", "gap", "worst-gap", "lateness", "latency",
        "server-queue", "server-swap-in", "server-prefill", "server-decode",
    ];

    /// <summary>Every metric, in report order.</summary>
    public static IReadOnlyList<Metric> All { get; } = Enum.GetValues<Metric>();

    /// <summary>The metric's name: <c>ttft</c>, <c>ttft-actual</c>, <c>itl</c>, <c>e2e</c>, <c>gap</c>, <c>worst-gap</c>, <c>lateness</c>, <c>latency</c>, <c>server-queue</c>...</summary>
    public static string Name(this Metric metric) => Names[(int)metric];

    /// <summary>The metric with this name, or null.</summary>
    public static Metric? FromName(string name)
    {
        int index = Array.IndexOf(Names, name);
        return index < 0 ? null : (Metric)index;
    }

    /// <summary>The names joined for error messages.</summary>
    internal static string AllNames => string.Join(", ", Names);
}
