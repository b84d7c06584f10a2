using MockServe.Core.Calibration;

namespace MockServe.Core.Tests.Calibration;

public sealed class MeasurementReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("calib-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Sample(string name) => Path.Combine(AppContext.BaseDirectory, "Calibration", "Samples", name);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Refusal(string path) =>
        Assert.Throws<CalibrationInputException>(() => MeasurementReader.Read(path)).Message;

    [Fact]
    public void Read_StepsCsv_ParsesEveryRowInSecondsWithLines()
    {
        var set = MeasurementReader.Read(Sample("steps.csv"));

        Assert.Equal(MeasurementFormats.StepsCsv, set.Format);
        Assert.Equal(3, set.Measurements.Count);
        var first = set.Measurements[0];
        Assert.Equal(MeasurementKind.Step, first.Kind);
        Assert.Equal("steps.csv:3", first.Source); // line 1 comment, line 2 header
        Assert.Equal(1, first.BatchSize);
        Assert.Equal(0, first.ContextTokens);
        Assert.Equal(512, first.PrefillTokens);
        Assert.Equal(42.5 / 1000, first.StepSeconds);
        var last = set.Measurements[2];
        Assert.Equal("steps.csv:5", last.Source);
        Assert.Equal((16, 2048L, 256L, 0.020), (last.BatchSize!.Value, last.ContextTokens!.Value, last.PrefillTokens!.Value, last.StepSeconds!.Value));
    }

    [Fact]
    public void Read_RequestsJsonl_ParsesSecondsColumnsAndOptionalConcurrency()
    {
        var set = MeasurementReader.Read(Sample("requests.jsonl"));

        Assert.Equal(MeasurementFormats.RequestsJsonl, set.Format);
        Assert.Equal(2, set.Measurements.Count);
        var first = set.Measurements[0];
        Assert.Equal(MeasurementKind.Request, first.Kind);
        Assert.Equal("requests.jsonl:1", first.Source);
        Assert.Equal((512L, 128L, 0.25, 0.02, 8.0), (first.PromptTokens!.Value, first.OutputTokens!.Value, first.TtftSeconds!.Value, first.ItlSeconds!.Value, first.Concurrency!.Value));
        var second = set.Measurements[1];
        Assert.Equal("requests.jsonl:3", second.Source); // line 2 is blank
        Assert.Null(second.Concurrency);
        Assert.Equal(0.0, second.ItlSeconds);
    }

    [Fact]
    public void Read_VllmSummaryResult_GivesOneMeanSummary()
    {
        var set = MeasurementReader.Read(Sample("vllm-bench.json"));

        Assert.Equal(MeasurementFormats.VllmBench, set.Format);
        var summary = Assert.Single(set.Measurements);
        Assert.Equal(MeasurementKind.Summary, summary.Kind);
        Assert.Equal(SummaryStatistic.Mean, summary.Statistic);
        Assert.Equal(1025, summary.PromptTokens); // 4098 / 4 = 1024.5, rounded half away from zero
        Assert.Equal(128, summary.OutputTokens); // 512 / 4
        Assert.Equal(0.150, summary.TtftSeconds); // mean_ttft_ms 150
        Assert.Equal(0.020, summary.ItlSeconds); // mean_tpot_ms 20, not mean_itl_ms 19.5
        Assert.Equal(4.0, summary.Concurrency); // max_concurrency
        Assert.Null(summary.RequestRate); // "inf"
    }

    [Fact]
    public void Read_VllmDetailedResult_GivesRequestsAndCountsSkipped()
    {
        var set = MeasurementReader.Read(Sample("vllm-bench-detailed.json"));

        Assert.Equal(MeasurementFormats.VllmBench, set.Format);
        Assert.Equal(2, set.Skipped); // [1] has an error, [3] produced no output
        Assert.Equal(2, set.Measurements.Count);
        var first = set.Measurements[0];
        Assert.Equal("vllm-bench-detailed.json:$.ttfts[0]", first.Source);
        Assert.Equal((100L, 5L, 0.1), (first.PromptTokens!.Value, first.OutputTokens!.Value, first.TtftSeconds!.Value));
        Assert.Equal((0.01 + 0.02 + 0.03 + 0.04) / (5 - 1), first.ItlSeconds!.Value, 12);
        Assert.Null(first.Concurrency); // max_concurrency null
        Assert.Equal(2.0, first.RequestRate);
        var second = set.Measurements[1];
        Assert.Equal("vllm-bench-detailed.json:$.ttfts[2]", second.Source);
        Assert.Equal(1, second.OutputTokens);
        Assert.Null(second.ItlSeconds); // one output token: no inter-token gap
    }

    [Fact]
    public void Read_AiPerfExport_ConvertsUnitsAndTakesConcurrencyFromInputConfig()
    {
        var set = MeasurementReader.Read(Sample("aiperf.json"));

        Assert.Equal(MeasurementFormats.AiPerf, set.Format);
        var summary = Assert.Single(set.Measurements);
        Assert.Equal(SummaryStatistic.Mean, summary.Statistic);
        Assert.Equal(0.250, summary.TtftSeconds); // 250 ms
        Assert.Equal(20_000_000 * 1e-9, summary.ItlSeconds!.Value, 15); // 20,000,000 ns
        Assert.Equal(550, summary.PromptTokens);
        Assert.Equal(97, summary.OutputTokens); // 96.85 rounded
        Assert.Equal(100.0, summary.Concurrency);
        Assert.Null(summary.RequestRate);
    }

    [Fact]
    public void Read_GuideLlmReport_GivesRequestsPerBenchmarkOrASummary()
    {
        var set = MeasurementReader.Read(Sample("guidellm.json"));

        Assert.Equal(MeasurementFormats.GuideLlm, set.Format);
        Assert.Equal(1, set.Skipped); // the record with 0 output tokens
        Assert.Equal(3, set.Measurements.Count);
        var computed = set.Measurements[0];
        Assert.Equal("guidellm.json:$.benchmarks[0].requests.successful[0]", computed.Source);
        Assert.Equal((256L, 64L, 0.120, 0.015, 3.5), (computed.PromptTokens!.Value, computed.OutputTokens!.Value, computed.TtftSeconds!.Value, computed.ItlSeconds!.Value, computed.Concurrency!.Value));
        var fromTimes = set.Measurements[1];
        Assert.Equal(1000.5 - 1000.0, fromTimes.TtftSeconds);
        Assert.Equal((1001.5 - 1000.5) / (11 - 1), fromTimes.ItlSeconds!.Value, 12);
        var summary = set.Measurements[2];
        Assert.Equal(MeasurementKind.Summary, summary.Kind);
        Assert.Equal("guidellm.json:$.benchmarks[1]", summary.Source);
        Assert.Equal((300L, 50L, 0.200, 0.025, 7.0), (summary.PromptTokens!.Value, summary.OutputTokens!.Value, summary.TtftSeconds!.Value, summary.ItlSeconds!.Value, summary.Concurrency!.Value));
    }

    [Fact]
    public void Read_AppendedVllmResults_GivesOneSummaryPerLine()
    {
        var line = File.ReadAllText(Sample("vllm-bench.json")).Trim();
        var path = Write("runs.jsonl", line + "\n" + line.Replace("\"max_concurrency\": 4", "\"max_concurrency\": 16") + "\n");

        var set = MeasurementReader.Read(path);

        Assert.Equal(MeasurementFormats.VllmBench, set.Format);
        Assert.Equal([4.0, 16.0], set.Measurements.Select(m => m.Concurrency!.Value));
        Assert.Equal("runs.jsonl:2:$", set.Measurements[1].Source);
    }

    [Fact]
    public void Read_CsvWithUnknownColumn_NamesTheColumn()
    {
        var path = Write("steps.csv", "batch_size,context_tokens,prefill_tokens,step_ms,gpu\n1,0,0,5,a100\n");

        Assert.StartsWith("steps.csv:1: unknown column gpu;", Refusal(path));
    }

    [Fact]
    public void Read_CsvWithBadNumber_NamesLineAndColumn()
    {
        var path = Write("steps.csv", "batch_size,context_tokens,prefill_tokens,step_ms\n1,0,0,5\n2,10,0,1\u002C5\n");

        Assert.Equal("steps.csv:3: 5 fields, but the header has 4 (batch_size, context_tokens, prefill_tokens, step_ms).", Refusal(path));
        var decimalComma = Write("steps2.csv", "batch_size,context_tokens,prefill_tokens,step_ms\n1,0,0,5\n2,10,0,\"1,5\"\n");
        Assert.Equal("steps2.csv:3: column step_ms: \"1,5\" is not a number", Refusal(decimalComma));
    }

    [Fact]
    public void Read_CsvWithNegativeStep_SaysItIsNotPositive()
    {
        var path = Write("steps.csv", "batch_size,context_tokens,prefill_tokens,step_ms\n1,0,0,-3\n");

        Assert.Equal("steps.csv:2: column step_ms: -3 is not a positive number", Refusal(path));
    }

    [Fact]
    public void Read_CsvMissingRequiredColumn_NamesIt()
    {
        var path = Write("requests.csv", "prompt_tokens,output_tokens,ttft_ms\n10,10,5\n");

        Assert.StartsWith("requests.csv:1: missing column itl_ms or itl_seconds;", Refusal(path));
    }

    [Fact]
    public void Read_JsonlWithUnknownKeyOnALaterLine_NamesLineAndKey()
    {
        var path = Write("requests.jsonl",
            "{\"prompt_tokens\":1,\"output_tokens\":2,\"ttft_ms\":3,\"itl_ms\":4}\n{\"prompt_tokens\":1,\"output_tokens\":2,\"ttft_ms\":3,\"itl_ms\":4,\"model\":5}\n");

        Assert.StartsWith("requests.jsonl:2: unknown column model;", Refusal(path));
    }

    [Fact]
    public void Read_VllmDetailedWithTextInTtfts_NamesTheJsonPath()
    {
        var path = Write("bench.json",
            "{\"completed\":2,\"input_lens\":[1,2],\"output_lens\":[3,4],\"ttfts\":[0.1,\"abc\"],\"itls\":[[0.1,0.1],[0.1,0.1,0.1]],\"errors\":[\"\",\"\"]}");

        Assert.Equal("bench.json: $.ttfts[1]: expected a number, got \"abc\"", Refusal(path));
    }

    [Fact]
    public void Read_VllmSummaryWithoutTpot_NamesTheMissingField()
    {
        var path = Write("bench.json", "{\"completed\":2,\"total_input_tokens\":10,\"total_output_tokens\":10,\"mean_ttft_ms\":5}");

        Assert.Equal("bench.json: $.mean_tpot_ms: missing", Refusal(path));
    }

    [Fact]
    public void Read_AiPerfWithUnknownUnit_NamesTheUnit()
    {
        var text = File.ReadAllText(Sample("aiperf.json")).Replace("\"unit\": \"ns\"", "\"unit\": \"min\"");
        var path = Write("profile_export_aiperf.json", text);

        Assert.StartsWith("profile_export_aiperf.json: $.inter_token_latency.unit: unknown unit \"min\"; known time units: ns, us, ms, s, sec", Refusal(path));
    }

    [Fact]
    public void Read_UnknownFormat_SaysWhichFormatsWereTried()
    {
        var message = Refusal(Write("notes.txt", "hello,world\n1,2\n"));

        Assert.StartsWith("notes.txt: not a measurement file we know. Tried: CSV", message);
        Assert.Contains("vllm bench serve", message);
        Assert.Contains("AIPerf profile_export_aiperf.json", message);
        Assert.Contains("guidellm benchmarks.json", message);
        Assert.StartsWith("other.json: not a measurement file we know.", Refusal(Write("other.json", "{\n  \"a\": 1\n}\n")));
    }

    [Fact]
    public void Read_EmptyFile_IsRefused()
    {
        Assert.Equal("empty.csv: the file is empty: no measurements.", Refusal(Write("empty.csv", "\n  \n")));
    }

    [Fact]
    public void Read_HeaderOnly_SaysNoMeasurements()
    {
        Assert.Equal("steps.csv: no measurements.", Refusal(Write("steps.csv", "batch_size,context_tokens,prefill_tokens,step_seconds\n")));
    }

    [Fact]
    public void Read_EveryRequestFailed_SaysHowManyWereSkipped()
    {
        var path = Write("bench.json", "{\"completed\":0,\"input_lens\":[1,2],\"output_lens\":[0,0],\"ttfts\":[0,0],\"itls\":[[],[]],\"errors\":[\"timeout\",\"\"]}");

        Assert.Equal("bench.json: no measurements (2 records skipped: failed or no output tokens).", Refusal(path));
    }

    [Fact]
    public void Read_MoreMeasurementsThanTheCap_RefusedNamingTheLimit()
    {
        var path = Write("steps.csv", "batch_size,context_tokens,prefill_tokens,step_ms\n1,0,0,1\n1,0,0,2\n1,0,0,3\n");

        var message = Assert.Throws<CalibrationInputException>(() => MeasurementReader.Read(path, maxMeasurements: 2)).Message;

        Assert.StartsWith("steps.csv: more than 2 measurements; the limit is 2 (at steps.csv:4)", message);
    }

    [Fact]
    public void Read_MissingFile_SaysNotFound()
    {
        var path = Path.Combine(_dir, "nope.csv");

        Assert.Equal($"{path}: file not found.", Refusal(path));
    }
}
