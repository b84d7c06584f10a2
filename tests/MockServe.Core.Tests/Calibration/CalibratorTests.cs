using MockServe.Core.Calibration;
using MockServe.Core.CostModel;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Core.Tests.Engine;

using Xunit.Abstractions;

namespace MockServe.Core.Tests.Calibration;

public sealed class CalibratorTests(ITestOutputHelper output)
{
    private const double Noise = 0.02;

    private static readonly Efficiency True = new()
    {
        PrefillComputeUtilization = 0.55,
        DecodeBandwidthUtilization = 0.7,
        StepOverheadSeconds = 0.003,
        StepOverheadPerSequenceSeconds = 40e-6,
        RequestOverheadSeconds = 0.015,
        FinishOverheadSeconds = 0.005,
    };

    private static Deployment Llama8BOnH100 => new() { Model = Presets.FindModel("llama-3.1-8b")!, Gpu = Presets.FindGpu("h100-sxm")! };

    public static TheoryData<string, int> Seeds()
    {
        var data = new TheoryData<string, int>();
        foreach (string deployment in new[] { "yi-34b/a100", "llama-3.1-8b/h100" })
        {
            foreach (int seed in new[] { 1, 2, 3, 4, 5 })
            {
                data.Add(deployment, seed);
            }
        }

        return data;
    }

    /// <summary>
    /// Step times priced by <see cref="GpuCostModel"/> itself with known parameters, over batches 1..64, contexts 500..30K
    /// and prefills 0, 512, 2048 (7 x 4 x 3 = 84 points, each measured 40 times as a step log would: 3,360 steps), times
    /// (1 + N(0, 2%)) from a seeded generator. Tolerance: u_p and u_d within 5% relative, h0 within 0.3 ms, h1 within
    /// 10 us, and every true value inside 4 standard errors of its fit (so the reported uncertainty is honest); it holds
    /// for seeds 1..5 on both deployments. (A host time of 3 ms under 2% noise on Yi-34B's 50 ms and longer steps is hard
    /// to see: from one pass of the grid its standard error is 0.6 ms, hence the repeats.)
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Fit_StepsPricedByCostModelWithNoise_RecoversParameters(string name, int seed)
    {
        var deployment = name.StartsWith("yi", StringComparison.Ordinal) ? Presets.DefaultDeployment : Llama8BOnH100;
        var measurements = GridSteps(new GpuCostModel(deployment with { Efficiency = True }), new Random(seed), repeats: 40);

        var result = Calibrator.Fit(deployment, measurements, new CalibrationOptions { Source = "grid" });
        Report(result);

        Assert.True(result.Converged);
        AssertRecovered(result, CalibrationParameter.PrefillComputeUtilization, 0.55, 0.05);
        AssertRecovered(result, CalibrationParameter.DecodeBandwidthUtilization, 0.7, 0.05);
        AssertRecovered(result, CalibrationParameter.StepOverheadSeconds, 0.003, 0.3e-3 / 0.003);
        AssertRecovered(result, CalibrationParameter.StepOverheadPerSequenceSeconds, 40e-6, 10e-6 / 40e-6);
        Assert.False(result[CalibrationParameter.RequestOverheadSeconds].Determined);
        // Relative residuals of 2% noise have an RMS near 0.02.
        Assert.InRange(result.RmsRelativeResidual, 0.015, 0.025);
    }

    /// <summary>
    /// Host time overlapped with the GPU's (vLLM v1's async scheduling): a step lasts max(GPU, h0 + h1 n). Llama 3.1 8B
    /// on an H100 with 8 ms + 100 us a sequence of host time: small batches at short contexts are host bound (the GPU
    /// reads 16 GB in 6.9 ms at 0.7 of 3.35 TB/s), large ones and prefills GPU bound, so every parameter shows in some
    /// steps. Same grid, noise and tolerances as above (h1 within 10 us); seeds 1..3.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Fit_OverlappedHostTime_RecoversTheHostBoundAndTheGpuBoundParameters(int seed)
    {
        var truth = True with { StepOverheadSeconds = 0.008, StepOverheadPerSequenceSeconds = 100e-6, OverlapHostTime = true };
        var deployment = Llama8BOnH100 with { Efficiency = truth };
        var measurements = GridSteps(new GpuCostModel(deployment), new Random(seed), repeats: 20);

        // The fit starts from the deployment's efficiency, whose OverlapHostTime it keeps: the peak set with overlap on.
        var result = Calibrator.Fit(Llama8BOnH100 with { Efficiency = Efficiency.Peak with { OverlapHostTime = true } }, measurements, new CalibrationOptions());
        Report(result);

        Assert.True(result.Converged);
        Assert.True(result.Efficiency.OverlapHostTime);
        AssertRecovered(result, CalibrationParameter.PrefillComputeUtilization, 0.55, 0.05);
        AssertRecovered(result, CalibrationParameter.DecodeBandwidthUtilization, 0.7, 0.05);
        AssertRecovered(result, CalibrationParameter.StepOverheadSeconds, 0.008, 0.3e-3 / 0.008);
        AssertRecovered(result, CalibrationParameter.StepOverheadPerSequenceSeconds, 100e-6, 10e-6 / 100e-6);
    }

    [Fact]
    public void Fit_OverlappedHostTimeHiddenInEveryStep_KeptWithTheReason()
    {
        // Batches of 32 and 64 at 20K-30K tokens of context: the GPU's step (tens of ms) hides 8 ms of host time.
        var deployment = Llama8BOnH100 with { Efficiency = Efficiency.Peak with { OverlapHostTime = true } };
        var cost = new GpuCostModel(Llama8BOnH100 with { Efficiency = True with { StepOverheadSeconds = 0.008, OverlapHostTime = true } });
        var measurements = new List<Measurement>();
        foreach (int batch in new[] { 32, 64 })
        {
            foreach (long context in new long[] { 20_000, 25_000, 30_000 })
            {
                var step = default(StepCost);
                for (int i = 0; i < batch; i++)
                {
                    step.AddDecode(context);
                }

                measurements.Add(DecodeStep($"big:{measurements.Count + 1}", batch, context, cost.StepSeconds(step)));
            }
        }

        var result = Calibrator.Fit(deployment, measurements, new CalibrationOptions());

        Assert.Equal(0.7, result.Efficiency.DecodeBandwidthUtilization, 6);
        Assert.False(result[CalibrationParameter.StepOverheadSeconds].Determined);
        Assert.Contains("hidden under the GPU time", result[CalibrationParameter.StepOverheadSeconds].NotDeterminedReason, StringComparison.Ordinal);
    }

    /// <summary>
    /// The engine itself on its virtual clock, Llama 3.1 8B on an H100, 120 requests one after another (each alone),
    /// prompts log-uniform in 100..2000 tokens (one chunk), outputs 20..400; TTFT and ITL from the results, times
    /// (1 + N(0, 2%)). Alone, every step holds one sequence, so only h0 + h1 is determined (h1 reported kept at 0).
    /// Tolerance: u_p within 5%, h0 + h1 and u_d within 10%, r within 1 ms, and the truth inside 4 standard errors;
    /// seeds 1..3.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Fit_EngineRequestsAlone_RecoversUtilizationsHostSumAndRequestOverhead(int seed)
    {
        var deployment = Llama8BOnH100 with { Efficiency = True };
        var harness = new EngineHarness(deployment);
        var random = new Random(seed);
        var measurements = new List<Measurement>();
        for (int i = 0; i < 120; i++)
        {
            long prompt = (long)Math.Round(100 * Math.Pow(20, random.NextDouble()));
            long tokens = random.Next(20, 401);
            string id = $"r{i}";
            Assert.True(harness.Submit(id, prompt, tokens).IsAccepted);
            var r = harness.Run(id);
            Assert.Equal(tokens, r.CompletionTokens);
            // The last token comes FinishOverheadSeconds before the response ends.
            double itl = (r.FinishTime - True.FinishOverheadSeconds - r.FirstTokenTime) / (r.CompletionTokens - 1);
            measurements.Add(new Measurement
            {
                Kind = MeasurementKind.Request,
                Source = $"engine:{id}",
                PromptTokens = prompt,
                OutputTokens = tokens,
                TtftSeconds = r.TimeToFirstToken * (1 + (Noise * Gaussian(random))),
                ItlSeconds = itl * (1 + (Noise * Gaussian(random))),
                Concurrency = 1,
            });
        }

        var result = Calibrator.Fit(Llama8BOnH100, measurements, new CalibrationOptions { Source = "engine" });
        Report(result);

        AssertRecovered(result, CalibrationParameter.PrefillComputeUtilization, 0.55, 0.05);
        AssertRecovered(result, CalibrationParameter.DecodeBandwidthUtilization, 0.7, 0.10);
        AssertRecovered(result, CalibrationParameter.StepOverheadSeconds, 0.003 + 40e-6, 0.10);
        AssertRecovered(result, CalibrationParameter.RequestOverheadSeconds, 0.015, 1e-3 / 0.015);
        var h1 = result[CalibrationParameter.StepOverheadPerSequenceSeconds];
        Assert.False(h1.Determined);
        Assert.Equal(0, h1.Value);
        Assert.Contains("one batch size", h1.NotDeterminedReason, StringComparison.Ordinal);
    }

    /// <summary>
    /// The engine serving many users at once (Llama 3.1 8B on an H100, 200 requests arriving every 40 ms, prompts 100..1500,
    /// outputs 20..400), recorded as Step measurements from its step summaries (mean decode context from
    /// <see cref="StepSummary.DecodeKvTokens"/>), times (1 + N(0, 2%)). Steps that prefill more than one chunk, or a chunk
    /// after cached tokens, are left out: the Step prediction prices one fresh prefill. Batch sizes vary, so h0 and h1
    /// come apart. Tolerance: u_p and u_d within 5%, h0 within 0.3 ms, h1 within 10 us, truth inside 4 standard errors.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Fit_EngineStepsOfManyUsers_RecoversEveryStepParameter(int seed)
    {
        var harness = new EngineHarness(Llama8BOnH100 with { Efficiency = True });
        var random = new Random(seed);
        var prompts = new Dictionary<string, long>();
        for (int i = 0; i < 200; i++)
        {
            long prompt = random.Next(100, 1501);
            prompts[$"u{i}"] = prompt;
            harness.SubmitAt(i * 0.04, $"u{i}", prompt, random.Next(20, 401));
        }

        Assert.True(harness.Clock.RunUntilIdle(10_000_000));
        var chunks = harness.Events.Where(e => e.Kind == EngineEventKind.PrefillChunk).ToLookup(e => e.Time);
        var measurements = new List<Measurement>();
        foreach (var step in harness.Steps)
        {
            var prefills = chunks[step.End].ToArray();
            bool fresh = prefills.Length == 0 || (prefills.Length == 1 && prefills[0].Count == prompts[prefills[0].Request!.RequestId]);
            if (!fresh || step.SwapSeconds > 0)
            {
                continue;
            }

            measurements.Add(new Measurement
            {
                Kind = MeasurementKind.Step,
                Source = $"engine-step:{measurements.Count + 1}",
                BatchSize = step.DecodeSequences + prefills.Length,
                ContextTokens = step.DecodeSequences > 0 ? (long)Math.Round((double)step.DecodeKvTokens / step.DecodeSequences) : 0,
                PrefillTokens = step.PrefillTokens,
                StepSeconds = (step.End - step.Start) * (1 + (Noise * Gaussian(random))),
            });
        }

        var batches = measurements.Select(m => m.BatchSize).Distinct().Count();
        output.WriteLine($"{measurements.Count} of {harness.Steps.Count} steps, {batches} batch sizes");
        var result = Calibrator.Fit(Llama8BOnH100, measurements, new CalibrationOptions { Source = "engine-steps" });
        Report(result);

        Assert.True(batches > 10, $"only {batches} batch sizes");
        AssertRecovered(result, CalibrationParameter.PrefillComputeUtilization, 0.55, 0.05);
        AssertRecovered(result, CalibrationParameter.DecodeBandwidthUtilization, 0.7, 0.05);
        AssertRecovered(result, CalibrationParameter.StepOverheadSeconds, 0.003, 0.3e-3 / 0.003);
        AssertRecovered(result, CalibrationParameter.StepOverheadPerSequenceSeconds, 40e-6, 10e-6 / 40e-6);
    }

    [Fact]
    public void Fit_RequestWithoutPromptTokens_ThrowsNamingItsSource()
    {
        var measurements = new[]
        {
            new Measurement { Kind = MeasurementKind.Request, Source = "bench.csv:7", OutputTokens = 100, TtftSeconds = 0.2, ItlSeconds = 0.02 },
        };

        var ex = Assert.Throws<CalibrationInputException>(() => Calibrator.Fit(Presets.DefaultDeployment, measurements, new CalibrationOptions()));

        Assert.Contains("bench.csv:7", ex.Message, StringComparison.Ordinal);
        Assert.Contains("prompt tokens", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_DecodingStepWithoutContext_ThrowsNamingItsSource()
    {
        var measurements = new[] { new Measurement { Kind = MeasurementKind.Step, Source = "steps.csv:3", BatchSize = 8, PrefillTokens = 0, StepSeconds = 0.05 } };

        var ex = Assert.Throws<CalibrationInputException>(() => Calibrator.Fit(Presets.DefaultDeployment, measurements, new CalibrationOptions()));

        Assert.Contains("steps.csv:3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("context tokens", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_FewerResidualsThanParameters_Throws()
    {
        // Two decode-only steps of different batches: u_d, h0 and h1 to fit from two numbers.
        var measurements = new[] { DecodeStep("s:1", 1, 1000, 0.05), DecodeStep("s:2", 8, 1000, 0.06) };

        var ex = Assert.Throws<CalibrationInputException>(() => Calibrator.Fit(Presets.DefaultDeployment, measurements, new CalibrationOptions()));

        Assert.Contains("2 measured quantities cannot determine 3 parameters", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_DecodeOnlySteps_KeepsPrefillUtilizationAndRequestOverheadWithReasons()
    {
        var deployment = Presets.DefaultDeployment with { Efficiency = new Efficiency { PrefillComputeUtilization = 0.6 } };
        var cost = new GpuCostModel(deployment with { Efficiency = True });
        var measurements = new List<Measurement>();
        foreach (int batch in new[] { 1, 4, 16, 64 })
        {
            foreach (long context in new long[] { 1000, 8000, 30_000 })
            {
                var contexts = Enumerable.Repeat(context, batch).ToArray();
                measurements.Add(DecodeStep($"s:{measurements.Count + 1}", batch, context, cost.DecodeStepSeconds(contexts)));
            }
        }

        var result = Calibrator.Fit(deployment, measurements, new CalibrationOptions { Source = "steps.csv", Date = new DateOnly(2026, 12, 6) });

        var up = result[CalibrationParameter.PrefillComputeUtilization];
        Assert.False(up.Determined);
        Assert.Equal(0.6, up.Value, 12);
        Assert.Contains("no measurement with prefill work", up.NotDeterminedReason, StringComparison.Ordinal);
        Assert.Contains("no TTFT", result[CalibrationParameter.RequestOverheadSeconds].NotDeterminedReason, StringComparison.Ordinal);
        // Noise-free data: the decode side comes back exactly.
        Assert.Equal(0.7, result.Efficiency.DecodeBandwidthUtilization, 6);
        Assert.Equal(0.003, result.Efficiency.StepOverheadSeconds, 8);
        Assert.Equal(40e-6, result.Efficiency.StepOverheadPerSequenceSeconds, 9);
        Assert.Equal("calibrated from steps.csv, 12 measurements, 2026-12-06", result.Efficiency.Source);
        Assert.Equal(12, result.Residuals.Count);
        Assert.All(result.Residuals, r => Assert.Equal(CalibratedQuantity.Step, r.Quantity));
        Assert.True(result.RmsRelativeResidual < 1e-6);
    }

    [Fact]
    public void Fit_StepsAllAlike_ThrowsNamingConfoundedParameters()
    {
        // Every step the same batch and context: the weight read (through u_d) and the fixed host time cannot be told apart.
        var measurements = Enumerable.Range(1, 6).Select(i => DecodeStep($"s:{i}", 8, 2000, 0.05 + (0.001 * (i % 2)))).ToArray();

        var ex = Assert.Throws<CalibrationInputException>(() => Calibrator.Fit(Presets.DefaultDeployment, measurements, new CalibrationOptions()));

        Assert.Contains("confound DecodeBandwidthUtilization and StepOverheadSeconds", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_RequestAlone_PredictsTheEnginesTtftAndItlExactly()
    {
        // Without noise, a fit to the engine's own TTFT and ITL reproduces them: the predictions are the engine's sums.
        var harness = new EngineHarness(Llama8BOnH100 with { Efficiency = True });
        var measurements = new List<Measurement>();
        foreach (var (prompt, tokens) in new (long, long)[] { (100, 50), (300, 400), (1200, 20), (2000, 200), (5000, 100), (700, 300) })
        {
            string id = $"r{measurements.Count}";
            harness.Submit(id, prompt, tokens);
            var r = harness.Run(id);
            measurements.Add(new Measurement
            {
                Kind = MeasurementKind.Request,
                Source = id,
                PromptTokens = prompt,
                OutputTokens = tokens,
                TtftSeconds = r.TimeToFirstToken,
                ItlSeconds = (r.FinishTime - True.FinishOverheadSeconds - r.FirstTokenTime) / (tokens - 1),
            });
        }

        var result = Calibrator.Fit(Llama8BOnH100, measurements, new CalibrationOptions());

        Assert.True(result.RmsRelativeResidual < 1e-6, $"rms {result.RmsRelativeResidual}");
        Assert.Equal(0.55, result.Efficiency.PrefillComputeUtilization, 5);
        Assert.Equal(0.015, result.Efficiency.RequestOverheadSeconds, 7);
        Assert.Equal(0, result.Efficiency.FinishOverheadSeconds);
    }

    /// <summary>
    /// Steps priced by <paramref name="cost"/> over batches 1..64, contexts 500..30K and prefills 0, 512, 2048 (84 points,
    /// each <paramref name="repeats"/> times), times (1 + N(0, 2%)) from <paramref name="random"/>.
    /// </summary>
    private static List<Measurement> GridSteps(GpuCostModel cost, Random random, int repeats)
    {
        var measurements = new List<Measurement>();
        foreach (int batch in Enumerable.Range(0, repeats).SelectMany(_ => new[] { 1, 2, 4, 8, 16, 32, 64 }))
        {
            foreach (long context in new long[] { 500, 2000, 8000, 30_000 })
            {
                foreach (long prefill in new long[] { 0, 512, 2048 })
                {
                    var step = default(StepCost);
                    for (int i = 0; i < batch - (prefill > 0 ? 1 : 0); i++)
                    {
                        step.AddDecode(context);
                    }

                    step.AddPrefill(prefill, 0);
                    measurements.Add(new Measurement
                    {
                        Kind = MeasurementKind.Step,
                        Source = $"grid:{measurements.Count + 1}",
                        BatchSize = batch,
                        ContextTokens = context,
                        PrefillTokens = prefill,
                        StepSeconds = cost.StepSeconds(step) * (1 + (Noise * Gaussian(random))),
                    });
                }
            }
        }

        return measurements;
    }

    private static Measurement DecodeStep(string source, int batch, long context, double seconds) => new()
    {
        Kind = MeasurementKind.Step,
        Source = source,
        BatchSize = batch,
        ContextTokens = context,
        PrefillTokens = 0,
        StepSeconds = seconds,
    };

    private static void AssertRecovered(CalibrationResult result, CalibrationParameter parameter, double truth, double relative)
    {
        var estimate = result[parameter];
        Assert.True(estimate.Determined, estimate.ToString());
        Assert.True(Math.Abs(estimate.Value - truth) <= relative * truth, $"{estimate} vs true {truth}");
        Assert.True(Math.Abs(estimate.Value - truth) <= 4 * estimate.StandardError, $"{estimate} vs true {truth}: more than 4 standard errors");
    }

    private void Report(CalibrationResult result)
    {
        foreach (var p in result.Parameters)
        {
            output.WriteLine(p.ToString());
        }

        output.WriteLine($"rms {result.RmsRelativeResidual:G3}, {result.Iterations} iterations");
    }

    // Box-Muller: a standard normal from two uniforms of the seeded generator.
    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
