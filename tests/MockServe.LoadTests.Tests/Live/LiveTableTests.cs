using MockServe.LoadTests.Live;

using Spectre.Console;

using static MockServe.LoadTests.Tests.Measurement.Samples;

namespace MockServe.LoadTests.Tests.Live;

public class LiveTableTests
{
    /// <summary>A console writing plain text (no ANSI, no colour) to <paramref name="writer"/>, wide enough for a row.</summary>
    private static IAnsiConsole Console(StringWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 200;
        return console;
    }

    /// <summary>The cells of the table row that starts with <paramref name="scenario"/>.</summary>
    private static string[] Row(string text, string scenario) =>
        text.Split('\n').Select(l => l.Split('│').Select(c => c.Trim()).ToArray())
            .Single(cells => cells.Length > 2 && cells[1] == scenario)[1..^1];

    [Fact]
    public void Render_Frame_ARowPerScenarioWithItsNumbersAndTheClockAbove()
    {
        var frame = new ProgressFrame(TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(60),
        [
            new ProgressRow(new ScenarioProgress("chat", 8, 50, 8, 0, 46, 2, 9_200, 0, TimeSpan.FromMilliseconds(1234)), 3, 600),
            new ProgressRow(new ScenarioProgress("burst", 0, 120, 16, 5, 99, 0, 990, 3, null), 10.5, 105),
        ]);
        var writer = new StringWriter();

        Console(writer).Write(LiveTable.Render(frame));

        string text = writer.ToString();
        Assert.Contains("12.0 s elapsed, 48.0 s left of 60.0 s", text, StringComparison.Ordinal);
        // scenario, users, started, in flight, req/s, tok/s, TTFT p99, requests, errors, dropped, queued.
        Assert.Equal(["chat", "8", "50", "8", "3.0", "600.0", "1.234 s", "46", "2", "0", "0"], Row(text, "chat"));
        Assert.Equal(["burst", "0", "120", "16", "10.5", "105.0", "-", "99", "0", "3", "5"], Row(text, "burst"));
    }

    [Fact]
    public async Task WatchAsync_RunEnds_TheLastFrameStaysWithTheFinalCounts()
    {
        var run = new TestRun(TimeSpan.FromSeconds(60), "chat");
        run.Set("chat", copies: 2, started: 2);
        var writer = new StringWriter();
        using var stop = new CancellationTokenSource();
        var watching = new LiveTable(Console(writer), TimeSpan.FromSeconds(1)).WatchAsync(run.View, stop.Token);

        // Two requests of 40 tokens each finish, and the run ends 2 s in, between ticks.
        run.Recorder.Record(Stream(0, 0, 100, 1000, 40));
        run.Recorder.Record(Stream(0, 0, 100, 1000, 40));
        run.Clock.Advance(TimeSpan.FromSeconds(0.5));
        await stop.CancelAsync();
        await watching.WaitAsync(TimeSpan.FromSeconds(30));

        // The final frame's rates are over the 0.5 s since the first frame at 0 s: 2 / 0.5 = 4 req/s, 80 / 0.5 = 160 tok/s.
        string text = writer.ToString();
        Assert.Equal(["chat", "2", "2", "0", "4.0", "160.0", "0.100 s", "2", "0", "0", "0"], Row(text.Split("elapsed").Last(), "chat"));
        Assert.Contains("0.5 s elapsed, 59.5 s left of 60.0 s", text, StringComparison.Ordinal);
    }
}
