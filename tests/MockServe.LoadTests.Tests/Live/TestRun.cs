using System.Threading.Channels;

using Microsoft.Extensions.Time.Testing;

using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Running;
using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Tests.Live;

/// <summary>A run view on a fake clock over hand-set driver counters and a recorder the test feeds.</summary>
internal sealed class TestRun
{
    private readonly long _start;

    public TestRun(TimeSpan? planned, params string[] scenarios)
    {
        _start = Clock.GetTimestamp();
        Counters = scenarios.ToDictionary(s => s, _ => new DriverCounters(), StringComparer.Ordinal);
        View = new RunView(Clock, () => Clock.GetElapsedTime(_start), planned, [.. scenarios.Select(s => new ScenarioView(s, Counters[s]))], Recorder);
    }

    public FakeTimeProvider Clock { get; } = new();

    public RunRecorder Recorder { get; } = new();

    public IReadOnlyDictionary<string, DriverCounters> Counters { get; }

    public RunView View { get; }

    /// <summary>Sets a scenario's driver counters as the driver would have them now.</summary>
    public DriverCounters Set(string scenario, int copies = 0, long started = 0, int inFlight = 0, int queued = 0, long queuedTotal = 0, long dropped = 0)
    {
        var c = Counters[scenario];
        c._copiesRunning = copies;
        c._started = started;
        c._inFlight = inFlight;
        c._queued = queued;
        c._queuedTotal = queuedTotal;
        c._dropped = dropped;
        return c;
    }
}

/// <summary>A writer whose lines a test awaits one by one, as a monitor writes them from its own thread.</summary>
internal sealed class LineWriter : TextWriter
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

    public override void WriteLine(string? value) => _lines.Writer.TryWrite(value ?? "");

    public override Task WriteLineAsync(string? value)
    {
        WriteLine(value);
        return Task.CompletedTask;
    }

    /// <summary>The next line; the guard only turns a hang into a failure, it never decides a pass.</summary>
    public async Task<string> NextAsync() => await _lines.Reader.ReadAsync().AsTask().WaitAsync(Guard);

    public bool TryNext(out string? line) => _lines.Reader.TryRead(out line);
}
