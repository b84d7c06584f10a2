using System.Globalization;
using System.Text;
using System.Text.Json;

using MockServe.Core.Engine;
using MockServe.Core.Profiles;

namespace MockServe.Server.Tests.Cli;

/// <summary>
/// <c>mockserve calibrate</c> end to end: requests measured on the engine itself (virtual clock) with chosen
/// utilisations and host time, written as our CSV with 2% seeded noise, fitted back by the command, and the file it
/// writes taken by <c>estimate --efficiency FILE</c>.
/// </summary>
public sealed class CalibrateCommandTests : IDisposable
{
    private static readonly Efficiency Truth = new()
    {
        PrefillComputeUtilization = 0.55,
        DecodeBandwidthUtilization = 0.70,
        StepOverheadSeconds = 0.003,
        RequestOverheadSeconds = 0.015,
    };

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Requests alone on Llama-3.1-8B / H100, one after another: prompts 100-2,000 tokens, outputs 20-400.</summary>
    private string MeasuredRequestsCsv(int seed)
    {
        var deployment = new Deployment { Model = Presets.FindModel("llama-3.1-8b")!, Gpu = Presets.FindGpu("h100-sxm")!, Efficiency = Truth };
        var clock = new VirtualClock();
        var engine = new InferenceEngine(deployment, new EngineOptions(), clock);
        var random = new Random(seed);
        var csv = new StringBuilder("prompt_tokens,output_tokens,ttft_ms,itl_ms\n");
        for (int i = 0; i < 80; i++)
        {
            long prompt = (long)Math.Round(100 * Math.Pow(20, random.NextDouble()));
            long output = random.Next(20, 401);
            var handle = engine.Submit(new InferenceRequest { RequestId = $"r{i}", PromptTokens = prompt, MaxTokens = output }).Handle!;
            Assert.True(clock.RunUntilIdle(1_000_000));
            var r = handle.Result!;
            double ttft = r.TimeToFirstToken * Noise(random);
            double itl = (r.FinishTime - r.FirstTokenTime) / (r.CompletionTokens - 1) * Noise(random);
            csv.Append(CultureInfo.InvariantCulture, $"{prompt},{output},{ttft * 1000:R},{itl * 1000:R}\n");
        }

        return _dir.Write($"requests-{seed}.csv", csv.ToString());
    }

    // 1 + N(0, 2%), Box-Muller from the seeded stream.
    private static double Noise(Random random) =>
        1 + (0.02 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Calibrate_EngineMeasuredRequests_RecoversTheEfficiencyAndWritesAFileEstimateTakes(int seed)
    {
        string csv = MeasuredRequestsCsv(seed);
        string written = Path.Combine(_dir.Path, "fitted.yaml");

        var run = CliRun.Of(["calibrate", csv, "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--output", written, "--format", "json"]);

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        var fitted = EfficiencyFile.Load(written);
        // Tolerances: 5% for the prefill utilisation, 10% for decode's (alone, only the KV read's growth with context
        // tells it from the step's host time), 10% for that host time, 1 ms for the request's.
        Assert.InRange(fitted.PrefillComputeUtilization, 0.55 * 0.95, 0.55 * 1.05);
        Assert.InRange(fitted.DecodeBandwidthUtilization, 0.70 * 0.90, 0.70 * 1.10);
        Assert.InRange(fitted.StepOverheadSeconds, 0.003 * 0.90, 0.003 * 1.10);
        Assert.InRange(fitted.RequestOverheadSeconds, 0.014, 0.016);
        Assert.StartsWith($"calibrated from requests-{seed}.csv, 80 measurements", fitted.Source, StringComparison.Ordinal);
        var json = JsonDocument.Parse(run.Out).RootElement;
        Assert.Equal("requests-csv", json.GetProperty("inputs")[0].GetProperty("format").GetString());
        Assert.Equal(160, json.GetProperty("residuals").GetArrayLength());
        Assert.Contains(json.GetProperty("parameters").EnumerateArray(), p =>
            p.GetProperty("name").GetString() == "stepOverheadPerSequenceSeconds" && !p.GetProperty("determined").GetBoolean());

        var estimate = CliRun.Of(["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--efficiency", written]);
        Assert.Equal(0, estimate.ExitCode);
        Assert.Contains("of peak BF16 FLOP/s / HBM bandwidth; host", estimate.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Calibrate_BadLine_RefusedNamingTheFileLineAndColumn()
    {
        string csv = _dir.Write("bad.csv", "prompt_tokens,output_tokens,ttft_ms,itl_ms\n1000,100,abc,20\n");

        var run = CliRun.Of(["calibrate", csv, "--output", Path.Combine(_dir.Path, "x.yaml")]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("bad.csv:2", run.Error, StringComparison.Ordinal);
        Assert.Contains("ttft_ms", run.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "x.yaml")));
    }

    [Fact]
    public void Calibrate_MeasuredFasterThanTheDatasheet_WarnsAboutTheDeployment()
    {
        // 5 ms a token for Yi-34B on one A100 would need 14 TB/s: another deployment was measured.
        var csv = new StringBuilder("prompt_tokens,output_tokens,ttft_ms,itl_ms\n");
        for (int i = 0; i < 12; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{500 + (i * 300)},{50 + (i * 20)},{100 + (i * 10)},{5 + (i * 0.1)}\n");
        }

        var run = CliRun.Of(["calibrate", _dir.Write("fast.csv", csv.ToString()), "--output", Path.Combine(_dir.Path, "fast.yaml")]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("warning: decodeBandwidthUtilization is at its bound 1", run.Out, StringComparison.Ordinal);
    }
}
