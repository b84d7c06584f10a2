using System.Globalization;

namespace MockServe.Benchmarks.Streaming.ScrapeCheck;

/// <summary>A token offset exactly as the server sent it (google.protobuf.Duration).</summary>
internal sealed record TokenOffset(long Seconds, int Nanos)
{
    public long TotalNanos => (Seconds * 1_000_000_000) + Nanos;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Seconds}.{Nanos:D9} s");
}

/// <summary>One fixed request's token offsets, and how hard the server was scraped meanwhile.</summary>
internal sealed record ScrapeRun
{
    public required string Label { get; init; }

    public required long PromptTokens { get; init; }

    public required long MaxTokens { get; init; }

    public required IReadOnlyList<TokenOffset> Offsets { get; init; }

    public required double StreamSeconds { get; init; }

    public long MetricsScrapes { get; init; }

    public long MetricsFailures { get; init; }

    public long InfoCalls { get; init; }

    public long InfoFailures { get; init; }

    /// <summary>Exact equality of every offset (seconds and nanoseconds), as the check demands: no tolerance.</summary>
    public static (bool Same, string Verdict) Compare(ScrapeRun reference, ScrapeRun run)
    {
        var a = reference.Offsets;
        var b = run.Offsets;
        string against = $"'{run.Label}' against '{reference.Label}'";
        if (a.Count != b.Count)
        {
            return (false, $"FAIL: {against}: {b.Count} tokens against {a.Count}");
        }

        int differ = 0;
        int first = -1;
        long largest = 0;
        int gapsDiffer = 0;
        for (int i = 0; i < a.Count; i++)
        {
            if (a[i] != b[i])
            {
                differ++;
                first = first < 0 ? i : first;
                largest = Math.Max(largest, Math.Abs(a[i].TotalNanos - b[i].TotalNanos));
            }

            // Whether the steps themselves changed length, or only the whole schedule moved.
            if (i > 0 && a[i].TotalNanos - a[i - 1].TotalNanos != b[i].TotalNanos - b[i - 1].TotalNanos)
            {
                gapsDiffer++;
            }
        }

        return differ == 0
            ? (true, $"PASS: {against}: all {a.Count} token offsets identical to the nanosecond")
            : (false, string.Create(
                CultureInfo.InvariantCulture,
                $"FAIL: {against}: {differ} of {a.Count} token offsets differ; first at token {first} ({b[first]} against {a[first]}); largest difference {largest / 1e3:0.###} µs; {gapsDiffer} of {a.Count - 1} gaps between consecutive tokens differ"));
    }
}
