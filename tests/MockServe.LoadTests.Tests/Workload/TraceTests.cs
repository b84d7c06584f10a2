using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Tests.Workload;

public class TraceTests
{
    private static readonly string[] GoodLines =
    [
        """{"time": 2.5, "session": "a", "prompt_tokens": 1200, "output_tokens": 60}""",
        "",
        """{"time": 0, "session": "a", "prompt_tokens": 1000, "output_tokens": 50, "note": "ignored"}""",
        """{"time": 1, "prompt_tokens": 300, "output_tokens": 20}""",
        """{"time": 1, "session": "b", "prompt_tokens": 4000, "output_tokens": 10}""",
    ];

    [Fact]
    public void Parse_GoodLines_SortedByTimeWithTiesInFileOrder()
    {
        var trace = Trace.Parse(GoodLines);

        Assert.Equal(
            [
                new TraceRequest(TimeSpan.Zero, "a", 1000, 50, 3, false),
                new TraceRequest(TimeSpan.FromSeconds(1), "", 300, 20, 4, false),
                new TraceRequest(TimeSpan.FromSeconds(1), "b", 4000, 10, 5, true),
                new TraceRequest(TimeSpan.FromSeconds(2.5), "a", 1200, 60, 1, true),
            ],
            trace.Requests);
        Assert.Equal(TimeSpan.FromSeconds(2.5), trace.Duration);
    }

    [Fact]
    public void Parse_TimeScale_MultipliesOffsets()
    {
        var trace = Trace.Parse(GoodLines, timeScale: 0.5);

        // 0, 1, 1, 2.5 s at half scale: 0, 0.5, 0.5, 1.25 s.
        Assert.Equal(
            [TimeSpan.Zero, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1.25)],
            trace.Requests.Select(r => r.Offset));
    }

    [Fact]
    public void Parse_BadLines_NameLineFieldAndValue()
    {
        string[] lines =
        [
            """{"time": 0, "session": "a", "prompt_tokens": 10, "output_tokens": 5}""",
            """{"time": 1, "session": "a", "prompt_tokens": -5, "output_tokens": 5}""",
            """{"time": 1, "session": "a", """,
            """{"session": "a", "prompt_tokens": 10, "output_tokens": 5}""",
            """{"time": "soon", "session": 7, "prompt_tokens": 10, "output_tokens": 5}""",
            """{"time": 3, "session": 7, "prompt_tokens": 10, "output_tokens": 5}""",
            """{"time": 3, "prompt_tokens": 10, "output_tokens": 2.5}""",
            "[1, 2]",
        ];

        var e = Assert.Throws<FormatException>(() => Trace.Parse(lines, source: "t.jsonl"));
        string[] messages = e.Message.Split(Environment.NewLine);

        Assert.Equal(7, messages.Length);
        Assert.Equal("t.jsonl line 2: \"prompt_tokens\" is -5; it must be a whole number of at least 1", messages[0]);
        Assert.StartsWith("t.jsonl line 3: not valid JSON (", messages[1], StringComparison.Ordinal);
        Assert.Equal("t.jsonl line 4: \"time\" is missing", messages[2]);
        Assert.Equal("t.jsonl line 5: \"time\" is \"soon\"; it must be a number of seconds of at least 0", messages[3]);
        Assert.Equal("t.jsonl line 6: \"session\" is 7; it must be a string", messages[4]);
        Assert.Equal("t.jsonl line 7: \"output_tokens\" is 2.5; it must be a whole number of at least 1", messages[5]);
        Assert.Equal("t.jsonl line 8: not a JSON object but array", messages[6]);
    }

    [Fact]
    public void Parse_NonPositiveTimeScale_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Trace.Parse(GoodLines, timeScale: 0));
    }

    [Fact]
    public void Load_File_ReadsItAndNamesItInErrors()
    {
        using var dir = new TempDirectory();
        string good = dir.Write("good.jsonl", string.Join('\n', GoodLines));
        string bad = dir.Write("bad.jsonl", """{"time": -1, "prompt_tokens": 1, "output_tokens": 1}""");

        Assert.Equal(4, Trace.Load(good).Requests.Count);
        var e = Assert.Throws<FormatException>(() => Trace.Load(bad));
        Assert.Equal($"{bad} line 1: \"time\" is -1; it must be a number of seconds of at least 0", e.Message);
    }

    [Fact]
    public void CreatePlan_TraceOption_LoadsTheTraceScaled()
    {
        using var dir = new TempDirectory();
        dir.Write("t.jsonl", string.Join('\n', GoodLines));
        var options = new WorkloadOptions { Trace = "t.jsonl", TraceTimeScale = 2 };

        var plan = WorkloadPlan.Create(options, new Random(0), dir.Path);

        // The last request at 2.5 s, scaled by 2: 5 s.
        Assert.Equal(TimeSpan.FromSeconds(5), plan.Trace!.Duration);
    }

    [Fact]
    public void ToRequest_TraceEntry_CarriesItsCounts()
    {
        var request = Trace.Parse(GoodLines).Requests[0].ToRequest("r1", ignoreEos: false);

        Assert.Equal("a", request.SessionId);
        Assert.Equal(1000, request.PromptTokens);
        Assert.Equal(50, request.MaxTokens);
        Assert.False(request.IgnoreEos);
    }
}
