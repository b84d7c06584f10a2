using System.Collections.Concurrent;

namespace MockServe.Reliability.Harness;

/// <summary>Outcomes counted per kind of call (a fuzzer's kind, a way of ending a turn) and over all of them.</summary>
internal sealed class KindTally
{
    private readonly ConcurrentDictionary<string, Tally> _byKind = new(StringComparer.Ordinal);

    public Tally Total { get; } = new();

    public void Add(string kind, string outcome, string? detail = null)
    {
        Total.Add(outcome, detail);
        _byKind.GetOrAdd(kind, _ => new Tally()).Add(outcome, detail);
    }

    /// <summary>One line per kind: "  kind: OK 12, CANCELLED 3".</summary>
    public async Task PrintAsync(TextWriter output)
    {
        foreach (var (kind, tally) in _byKind.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            await output.WriteLineAsync($"  {kind}: {tally.Summary()}");
        }
    }
}
