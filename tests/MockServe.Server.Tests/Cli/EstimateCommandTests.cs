using System.Text.Json;

using MockServe.Core.CostModel;
using MockServe.Core.Profiles;

namespace MockServe.Server.Tests.Cli;

public sealed class EstimateCommandTests : IDisposable
{
    private const double GiB = 1024.0 * 1024 * 1024;

    private static readonly string[] Llama8bOnTwoH100 =
        ["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--tp", "2", "--context", "8000", "--format", "json"];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Estimate_Json_HasEveryFieldFromTheCostModel()
    {
        var run = CliRun.Of(Llama8bOnTwoH100);
        var json = JsonDocument.Parse(run.Out).RootElement;

        var expected = new GpuCostModel(new Deployment
        {
            Model = Presets.FindModel("llama-3.1-8b")!,
            Gpu = Presets.FindGpu("h100-sxm")!,
            TensorParallel = 2,
        }).Summarize(8000, 1);
        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        Assert.Equal(expected.KvBytesPerToken, json.GetProperty("kvBytesPerToken").GetDouble());
        Assert.Equal(expected.KvBytes, json.GetProperty("kvBytes").GetDouble());
        Assert.Equal(expected.WeightBytes, json.GetProperty("weightBytes").GetDouble());
        Assert.Equal(expected.KvCapacityBytes, json.GetProperty("kvCapacityBytes").GetDouble());
        Assert.Equal(expected.MaxConcurrentUsers, json.GetProperty("maxConcurrentUsers").GetInt64());
        Assert.Equal(expected.PrefillSeconds, json.GetProperty("prefillSeconds").GetDouble());
        Assert.Equal(expected.DecodeSecondsPerToken, json.GetProperty("decodeSecondsPerToken").GetDouble());
        Assert.Equal(expected.DecodeSeconds, json.GetProperty("decodeSeconds").GetDouble());
        Assert.Equal(expected.ContextSwitchSeconds, json.GetProperty("contextSwitchSeconds").GetDouble());
    }

    [Fact]
    public void Estimate_Json_MatchesHandArithmeticForLlama8bOnTwoH100()
    {
        var json = JsonDocument.Parse(CliRun.Of(Llama8bOnTwoH100).Out).RootElement;

        // 32 layers x (K and V) x 8 KV heads x 128 dims x 2 bytes.
        double kvPerToken = 32 * 2 * 8 * 128 * 2.0;
        double kvBytes = kvPerToken * 8000;
        double weights = 8.03e9 * 2;
        // Two 80 GiB GPUs, less the weights and a 2 GiB activation reserve each.
        double capacity = (2 * 80 * GiB) - weights - (2 * 2 * GiB);
        // Prefill is compute bound: 2 FLOPs per parameter and token, plus QK^T and PV over 8000 x 8001 / 2
        // causal pairs at 2 x 32 layers x 32 heads x (128 + 128) FLOPs each, on 2 x 989 TFLOP/s.
        double prefill = ((2 * 8.03e9 * 8000) + (8000 * 8001 / 2.0 * 2 * 32 * 32 * 256)) / (2 * 989e12);
        // A decode step is memory bound: all weights plus the cached KV over 2 x 3.35 TB/s.
        double decode = (weights + kvBytes) / (2 * 3.35e12);
        Assert.Equal(
            ("llama-3.1-8b", "h100-sxm", 2, 8000L),
            (json.GetProperty("model").GetString(), json.GetProperty("gpu").GetString(), json.GetProperty("tp").GetInt32(),
                json.GetProperty("contextTokens").GetInt64()));
        Assert.Equal(131_072, json.GetProperty("kvBytesPerToken").GetDouble());
        Assert.Equal(kvPerToken, json.GetProperty("kvBytesPerToken").GetDouble());
        Assert.Equal(kvBytes, json.GetProperty("kvBytes").GetDouble());
        Assert.Equal(weights, json.GetProperty("weightBytes").GetDouble());
        Assert.Equal(capacity, json.GetProperty("kvCapacityBytes").GetDouble());
        Assert.Equal((long)Math.Floor(capacity / kvBytes), json.GetProperty("maxConcurrentUsers").GetInt64());
        Assert.Equal(prefill, json.GetProperty("prefillSeconds").GetDouble(), 1e-12);
        Assert.Equal(decode, json.GetProperty("decodeSecondsPerToken").GetDouble(), 1e-12);
        Assert.Equal(decode, json.GetProperty("decodeSeconds").GetDouble(), 1e-12);
        // The KV leaves over both GPUs' 64 GB/s host links.
        Assert.Equal(kvBytes / (2 * 64e9), json.GetProperty("contextSwitchSeconds").GetDouble(), 1e-12);
    }

    [Fact]
    public void Estimate_KvBits4_QuartersKvBytesPerToken()
    {
        var plain = JsonDocument.Parse(CliRun.Of("estimate", "--format", "json").Out).RootElement;
        var quantized = JsonDocument.Parse(CliRun.Of("estimate", "--kv-bits", "4", "--format", "json").Out).RootElement;

        // yi-34b: 60 layers x 2 x 8 KV heads x 128 dims, at 2 bytes and then at half a byte.
        Assert.Equal(60 * 2 * 8 * 128 * 2.0, plain.GetProperty("kvBytesPerToken").GetDouble());
        Assert.Equal(60 * 2 * 8 * 128 * 0.5, quantized.GetProperty("kvBytesPerToken").GetDouble());
    }

    [Fact]
    public void Estimate_DecodeTokens_SumsEveryStep()
    {
        var json = JsonDocument.Parse(CliRun.Of(
            "estimate", "--model", "llama-3.1-8b", "--context", "1000", "--decode-tokens", "3", "--format", "json").Out).RootElement;

        // Memory bound on one A100: weights plus 1000, 1001 and 1002 tokens of KV, over 2.039 TB/s.
        double expected = ((3 * 8.03e9 * 2) + ((1000 + 1001 + 1002) * 131_072.0)) / 2.039e12;
        Assert.Equal(expected, json.GetProperty("decodeSeconds").GetDouble(), 1e-12);
    }

    [Fact]
    public void Estimate_ContextWithKSuffix_MeansThousands()
    {
        var json = JsonDocument.Parse(CliRun.Of("estimate", "--context", "8k", "--format", "json").Out).RootElement;

        Assert.Equal(8000, json.GetProperty("contextTokens").GetInt64());
    }

    [Fact]
    public void Estimate_UnknownModel_FailsNamingTheId()
    {
        var run = CliRun.Of("estimate", "--model", "gpt-5");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal("", run.Out);
        Assert.Contains("--model: unknown model 'gpt-5'", run.Error);
        Assert.Contains("yi-34b", run.Error);
    }

    [Fact]
    public void Estimate_UnknownGpu_FailsNamingTheId()
    {
        var run = CliRun.Of("estimate", "--gpu", "b200");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--gpu: unknown GPU 'b200'", run.Error);
    }

    [Fact]
    public void Estimate_ContextBeyondMaxContext_FailsNamingOptionValueAndLimit()
    {
        var run = CliRun.Of("estimate", "--model", "mixtral-8x7b", "--context", "40000");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal("", run.Out);
        Assert.Equal(
            "error: --context: must be between 1 and mixtral-8x7b's context of 32768 tokens, got 40000" + Environment.NewLine,
            run.Error);
    }

    [Fact]
    public void Estimate_ContextZero_Fails()
    {
        var run = CliRun.Of("estimate", "--context", "0");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--context: must be between 1 and yi-34b's context of 200000 tokens, got 0", run.Error);
    }

    [Fact]
    public void Estimate_DecodeTokensBeyondTheContext_FailsWithTheRpcsRule()
    {
        var run = CliRun.Of("estimate", "--decode-tokens", "200001");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--decode-tokens: must be between 1 and yi-34b's context of 200000 tokens, got 200001", run.Error);
    }

    [Fact]
    public void Estimate_ContextNotANumber_FailsAsParseError()
    {
        var run = CliRun.Of("estimate", "--context", "lots");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal("", run.Out);
        Assert.Contains("--context: expected a whole number of tokens such as 50000 or 50k, got 'lots'", run.Error);
    }

    [Fact]
    public void Estimate_KvBitsOutOfRange_FailsNamingTheOption()
    {
        var run = CliRun.Of("estimate", "--kv-bits", "64");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal("error: --kv-bits: must be between 1 and 32, got 64" + Environment.NewLine, run.Error);
    }

    [Fact]
    public void Estimate_CustomModelYaml_IsUsedThroughModelPath()
    {
        string path = _dir.Write("tiny.yaml", """
            id: tiny-1b
            layers: 16
            hiddenSize: 2048
            queryHeads: 32
            kvHeads: 8
            headDim: 64
            ffnSize: 8192
            vocabulary: 128256
            totalParameters: 1.24e9
            attention: gqa
            maxContext: 131072
            """);

        var run = CliRun.Of("estimate", "--model", path, "--context", "4096", "--format", "json");
        var json = JsonDocument.Parse(run.Out).RootElement;

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("tiny-1b", json.GetProperty("model").GetString());
        // 16 layers x 2 x 8 KV heads x 64 dims x 2 bytes.
        Assert.Equal(16 * 2 * 8 * 64 * 2.0, json.GetProperty("kvBytesPerToken").GetDouble());
        Assert.Equal(1.24e9 * 2, json.GetProperty("weightBytes").GetDouble());
    }

    [Fact]
    public void Estimate_BrokenModelFile_FailsNamingFileAndField()
    {
        string path = _dir.Write("broken.json", """{ "id": "x", "layers": "many" }""");

        var run = CliRun.Of("estimate", "--model", path);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains($"error: --model: {path}:1: layers: expected a whole number, got the string \"many\"", run.Error);
        Assert.Contains($"error: --model: {path}: hiddenSize: required field is missing", run.Error);
    }

    [Fact]
    public void Estimate_Table_ShowsHumanUnits()
    {
        var run = CliRun.Of("estimate");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("yi-34b on 1 x a100-80gb, 50,000-token context", run.Out);
        // 60 x 2 x 8 x 128 x 2 bytes = 245,760 bytes = 240 KiB; times 50,000 tokens = 11.44 GiB.
        Assert.Contains("240 KiB", run.Out);
        Assert.Contains("11.4 GiB", run.Out);
    }
}
