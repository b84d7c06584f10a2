using MockServe.Core.CostModel;
using MockServe.Core.Profiles;

namespace MockServe.Core.Tests.CostModel;

/// <summary>
/// GpuCostModel against figures worked out by hand from model configs and GPU datasheets
/// (docs/cost-model.md has the formulas and sources).
/// </summary>
public sealed class GpuCostModelTests
{
    private const double RelativeTolerance = 1e-9;
    private const double GiB = 1024.0 * 1024 * 1024;
    private const double ReservePerGpu = 2 * GiB;

    // NVIDIA A100 SXM4 80GB datasheet; PCIe 4.0 x16 per direction.
    private const double A100Hbm = 80 * GiB;
    private const double A100Bandwidth = 2.039e12;
    private const double A100Flops = 312e12;
    private const double A100HostLink = 32e9;

    // NVIDIA H100 SXM5 datasheet; PCIe 5.0 x16 per direction.
    private const double H100Hbm = 80 * GiB;
    private const double H100Bandwidth = 3.35e12;
    private const double H100Flops = 989e12;
    private const double H100HostLink = 64e9;

    // Yi-34B config.json: 60 layers, 56 query heads, 8 KV heads, head dim 128, BF16 weights and KV.
    private const double YiParameters = 34.39e9;
    private const double YiWeightBytes = YiParameters * 2;
    private const double YiKvBytesPerToken = 2 * 60 * 8 * 128 * 2; // K and V x layers x KV heads x head dim x BF16 bytes = 245,760
    private const double YiAttentionFlopsPerPair = 2 * 60 * 56 * (128 + 128); // 2 FLOPs per MAC x layers x query heads x (QK^T + PV dims)
    private const double YiKvCapacity = A100Hbm - YiWeightBytes - ReservePerGpu; // 14,971,862,272

    // Mixtral-8x7B config.json: 32 layers, 32 query heads, 8 KV heads, head dim 128; 46.7B resident, 12.9B per token.
    private const double MixtralWeightBytes = 46.7e9 * 2;
    private const double MixtralActiveWeightBytes = 12.9e9 * 2;
    private const double MixtralKvBytesPerToken = 2 * 32 * 8 * 128 * 2;

    // Llama-3.1-70B config.json: 80 layers, 64 query heads, 8 KV heads, head dim 128, 70.55B parameters.
    private const double LlamaWeightBytes = 70.55e9 * 2;
    private const double LlamaKvBytesPerToken = 2 * 80 * 8 * 128 * 2;

    [Fact]
    public void KvBytesPerToken_Yi34bGqa_IsKAndVPerKvHeadPerLayer()
    {
        GpuCostModel model = Build();

        AssertClose(245_760, model.KvBytesPerToken); // 2 x 60 x 8 x 128 x 2
        AssertClose(YiKvBytesPerToken, model.KvBytesPerToken);
    }

    [Fact]
    public void KvBytes_Yi34bAt50kTokens_IsPerTokenBytesTimesContext()
    {
        GpuCostModel model = Build();

        double expected = 245_760.0 * 50_000; // = 12,288,000,000 bytes
        AssertClose(expected, model.KvBytes(50_000));
    }

    [Fact]
    public void WeightBytes_Yi34b_IsTwoBytesPerParameter()
    {
        GpuCostModel model = Build();

        // 60 x (attention 117.4M + SwiGLU MLP 440.4M) + embedding and LM head 2 x 458.8M = 34.39B, BF16.
        double expected = 34.39e9 * 2;
        AssertClose(expected, model.WeightBytes);
    }

    [Fact]
    public void KvCapacityBytes_Yi34bOnA100_IsHbmMinusWeightsMinusReserve()
    {
        GpuCostModel model = Build();

        double expected = (80 * GiB) - (34.39e9 * 2) - (2 * GiB); // 85,899,345,920 - 68,780,000,000 - 2,147,483,648
        AssertClose(expected, model.KvCapacityBytes);
        AssertClose(14_971_862_272, model.KvCapacityBytes);
    }

    [Fact]
    public void MaxConcurrentUsers_Yi34bAt50kTokens_IsOne()
    {
        GpuCostModel model = Build();

        // 14,971,862,272 / 12,288,000,000 = 1.22
        Assert.Equal(1, model.MaxConcurrentUsers(50_000));
    }

    [Fact]
    public void MaxConcurrentUsers_Yi34bAt10kTokens_IsSix()
    {
        GpuCostModel model = Build();

        // 14,971,862,272 / (245,760 x 10,000 = 2,457,600,000) = 6.09
        Assert.Equal(6, model.MaxConcurrentUsers(10_000));
    }

    [Fact]
    public void MaxConcurrentUsers_ZeroContext_IsZero()
    {
        GpuCostModel model = Build();

        Assert.Equal(0, model.MaxConcurrentUsers(0));
    }

    [Fact]
    public void PrefillSeconds_Yi34b50kPrompt_IsWeightAndCausalAttentionFlopsOverPeak()
    {
        GpuCostModel model = Build();

        double s = 50_000;
        double weightFlops = 2 * 34.39e9 * s; // 3.439e15
        double attentionFlops = 2 * 60 * 56 * (128 + 128) * (s * (s + 1) / 2); // 1,720,320 x 1,250,025,000 = 2.150443008e15
        double expected = (weightFlops + attentionFlops) / 312e12; // = 17.91 s
        AssertClose(expected, model.PrefillSeconds(50_000, 0));
    }

    [Fact]
    public void PrefillSeconds_AfterCachedTokens_AttendsToCachedAndCausalNewKeys()
    {
        GpuCostModel model = Build();

        double s = 10_000;
        double c = 40_000;
        double pairs = (s * c) + (s * (s + 1) / 2); // each new token i attends c + i keys
        double expected = ((2 * YiParameters * s) + (YiAttentionFlopsPerPair * pairs)) / A100Flops; // = 4.69 s
        AssertClose(expected, model.PrefillSeconds(10_000, 40_000));
    }

    [Fact]
    public void PrefillSeconds_SingleTokenPrompt_IsFlooredByOneWeightRead()
    {
        GpuCostModel model = Build();

        // Compute: (68.78e9 + 1.7e6) / 312e12 = 0.22 ms; memory: 68.78e9 / 2.039e12 = 33.7 ms.
        double expected = YiWeightBytes / A100Bandwidth;
        AssertClose(expected, model.PrefillSeconds(1, 0));
    }

    [Fact]
    public void PrefillSeconds_NoNewTokens_IsZero()
    {
        GpuCostModel model = Build();

        Assert.Equal(0, model.PrefillSeconds(0, 40_000));
    }

    [Fact]
    public void DecodeStepSeconds_Batch1At50k_IsWeightsPlusKvOverBandwidth()
    {
        GpuCostModel model = Build();

        // Memory: 81.068e9 / 2.039e12 = 39.8 ms; compute: (68.78e9 + 1,720,320 x 50,001) / 312e12 = 0.5 ms.
        double expected = ((34.39e9 * 2) + (245_760.0 * 50_000)) / 2.039e12;
        AssertClose(expected, model.DecodeStepSeconds(50_000));
    }

    [Fact]
    public void DecodeStepSeconds_BatchOfThreeContexts_ReadsWeightsOnceAndEveryKv()
    {
        GpuCostModel model = Build();

        double expected = (YiWeightBytes + (YiKvBytesPerToken * (1_000 + 8_000 + 20_000))) / A100Bandwidth;
        AssertClose(expected, model.DecodeStepSeconds([1_000, 8_000, 20_000]));
    }

    [Fact]
    public void DecodeStepSeconds_LongerContext_GrowsByExtraKvOverBandwidth()
    {
        GpuCostModel model = Build();

        double growth = model.DecodeStepSeconds(100_000) - model.DecodeStepSeconds(1_000);

        double expected = YiKvBytesPerToken * (100_000 - 1_000) / A100Bandwidth; // = 11.9 ms
        AssertClose(expected, growth);
    }

    [Fact]
    public void DecodeStepSeconds_LargeBatchOfShortContexts_IsComputeBound()
    {
        GpuCostModel model = Build();
        long[] contexts = Enumerable.Repeat(100L, 512).ToArray();

        // Compute: (2 x 34.39e9 x 512 + 1,720,320 x 101 x 512) / 312e12 = 113 ms;
        // memory: (68.78e9 + 245,760 x 100 x 512) / 2.039e12 = 40 ms.
        double expected = ((2 * YiParameters * 512) + (YiAttentionFlopsPerPair * 101 * 512)) / A100Flops;
        AssertClose(expected, model.DecodeStepSeconds(contexts));
    }

    [Fact]
    public void DecodeSeconds_ThreeTokens_SumsStepsOverGrowingContext()
    {
        GpuCostModel model = Build();

        double kvTokens = 50_000 + 50_001 + 50_002;
        double expected = ((3 * YiWeightBytes) + (YiKvBytesPerToken * kvTokens)) / A100Bandwidth;
        AssertClose(expected, model.DecodeSeconds(50_000, 3));
    }

    [Fact]
    public void SwapSeconds_KvOf50kTokens_IsBytesOverPcie()
    {
        GpuCostModel model = Build();

        double expected = 245_760.0 * 50_000 / 32e9; // = 0.384 s
        AssertClose(expected, model.SwapSeconds(model.KvBytes(50_000)));
    }

    [Fact]
    public void StepSeconds_EmptyStep_IsZero()
    {
        GpuCostModel model = Build();

        Assert.Equal(0, model.StepSeconds(default));
    }

    [Fact]
    public void Summarize_Yi34bAt50k_ReportsHandWorkedFigures()
    {
        GpuCostModel model = Build();
        double s = 50_000;
        double kv = YiKvBytesPerToken * s;
        double decodeStep = (YiWeightBytes + kv) / A100Bandwidth;

        CostSummary summary = model.Summarize(50_000);

        AssertClose(YiKvBytesPerToken, summary.KvBytesPerToken);
        AssertClose(kv, summary.KvBytes);
        AssertClose(YiWeightBytes, summary.WeightBytes);
        AssertClose(YiKvCapacity, summary.KvCapacityBytes);
        Assert.Equal(1, summary.MaxConcurrentUsers);
        AssertClose(((2 * YiParameters * s) + (YiAttentionFlopsPerPair * s * (s + 1) / 2)) / A100Flops, summary.PrefillSeconds);
        AssertClose(decodeStep, summary.DecodeSecondsPerToken);
        AssertClose(decodeStep, summary.DecodeSeconds);
        AssertClose(kv / A100HostLink, summary.ContextSwitchSeconds);
    }

    [Fact]
    public void Flops_MixtralPrefill_UsesActiveParameters()
    {
        GpuCostModel model = Build("mixtral-8x7b", tp: 2);
        var cost = default(StepCost);
        cost.AddPrefill(1_000, 0);

        double expected = (2 * 12.9e9 * 1_000) + (2 * 32 * 32 * (128 + 128) * (1_000.0 * 1_001 / 2));
        AssertClose(expected, model.Flops(cost));
    }

    [Fact]
    public void DecodeStepSeconds_MixtralBatch1_ReadsActiveWeightsOnly()
    {
        GpuCostModel model = Build("mixtral-8x7b", tp: 2);

        double expected = ((12.9e9 * 2) + (MixtralKvBytesPerToken * 1_000)) / (2 * A100Bandwidth);
        AssertClose(expected, model.DecodeStepSeconds(1_000));
    }

    [Fact]
    public void DecodeStepSeconds_MixtralBatchOfThree_ReadsTheExpertsItsTokensRouteTo()
    {
        GpuCostModel model = Build("mixtral-8x7b", tp: 2);

        // One expert (all layers): (46.7e9 - 12.9e9) / (8 - 2) = 5.6333e9; shared = 12.9e9 - 2 x 5.6333e9.
        // Three tokens, each routed to 2 of 8 uniformly, touch 8 x (1 - (6/8)^3) = 4.625 experts on average.
        double expert = (46.7e9 - 12.9e9) / 6;
        double shared = 12.9e9 - (2 * expert);
        double weightBytes = (shared + (expert * 8 * (1 - Math.Pow(0.75, 3)))) * 2;
        double expected = (weightBytes + (MixtralKvBytesPerToken * 3_000)) / (2 * A100Bandwidth);
        AssertClose(expected, model.DecodeStepSeconds([1_000, 1_000, 1_000]));
    }

    [Fact]
    public void WeightBytesRead_MixtralLargeBatch_ApproachesAllWeights()
    {
        GpuCostModel model = Build("mixtral-8x7b", tp: 2);

        // (6/8)^256 is below 1e-31: every expert is read once, never more.
        AssertClose(MixtralWeightBytes, model.WeightBytesRead(256));
        Assert.True(model.WeightBytesRead(8) < 0.95 * MixtralWeightBytes);
        AssertClose(MixtralActiveWeightBytes, model.WeightBytesRead(1));
    }

    [Fact]
    public void KvCapacityBytes_MixtralOnTwoA100_SubtractsTotalWeights()
    {
        GpuCostModel model = Build("mixtral-8x7b", tp: 2);

        double expected = (2 * 80 * GiB) - (46.7e9 * 2) - (2 * 2 * GiB);
        AssertClose(expected, model.KvCapacityBytes);
    }

    [Fact]
    public void KvCapacityBytes_MixtralOnOneA100_IsZeroBecauseWeightsDoNotFit()
    {
        GpuCostModel model = Build("mixtral-8x7b");

        // 93.4e9 bytes of weights > 85.9e9 bytes of HBM.
        Assert.Equal(0, model.KvCapacityBytes);
        Assert.Equal(0, model.MaxConcurrentUsers(1_000));
    }

    [Fact]
    public void KvBytesPerToken_DeepSeekV2LiteMla_IsOneLatentPerLayer()
    {
        GpuCostModel model = Build("deepseek-v2-lite");

        double expected = 27 * (512 + 64) * 2; // layers x (kv_lora_rank + qk_rope_head_dim) x BF16 bytes = 31,104
        AssertClose(expected, model.KvBytesPerToken);
    }

    [Fact]
    public void Flops_DeepSeekV2LitePrefill_UsesRopeWidenedQueryKeyDim()
    {
        GpuCostModel model = Build("deepseek-v2-lite");
        var cost = default(StepCost);
        cost.AddPrefill(4_000, 0);

        double pairs = 4_000.0 * 4_001 / 2;
        // 2 x layers x query heads x (d_qk = 128 nope + 64 rope, d_v = 128); 2.4B active parameters.
        double expected = (2 * 2.4e9 * 4_000) + (2 * 27 * 16 * ((128 + 64) + 128) * pairs);
        AssertClose(expected, model.Flops(cost));
    }

    [Fact]
    public void HbmBytes_Llama70bOnFourH100_IsFourGpus()
    {
        GpuCostModel model = Build("llama-3.1-70b", "h100-sxm", tp: 4);

        AssertClose(4 * 80 * GiB, model.HbmBytes);
    }

    [Fact]
    public void KvCapacityBytes_Llama70bOnFourH100_SubtractsFourReserves()
    {
        GpuCostModel model = Build("llama-3.1-70b", "h100-sxm", tp: 4);

        double expected = (4 * H100Hbm) - LlamaWeightBytes - (4 * ReservePerGpu); // 343.6e9 - 141.1e9 - 8.6e9
        AssertClose(expected, model.KvCapacityBytes);
    }

    [Fact]
    public void HostCapacityBytes_Llama70bOnFourH100_IsFourHostShares()
    {
        GpuCostModel model = Build("llama-3.1-70b", "h100-sxm", tp: 4);

        AssertClose(4 * 256 * GiB, model.HostCapacityBytes);
    }

    [Fact]
    public void PrefillSeconds_Llama70bOnFourH100_UsesFourTimesPeakFlops()
    {
        GpuCostModel model = Build("llama-3.1-70b", "h100-sxm", tp: 4);

        double s = 32_000;
        double flops = (2 * 70.55e9 * s) + (2 * 80 * 64 * (128 + 128) * (s * (s + 1) / 2));
        double expected = flops / (4 * H100Flops);
        AssertClose(expected, model.PrefillSeconds(32_000, 0));
    }

    [Fact]
    public void DecodeStepSeconds_Llama70bOnFourH100_UsesFourTimesBandwidth()
    {
        GpuCostModel model = Build("llama-3.1-70b", "h100-sxm", tp: 4);

        double expected = (LlamaWeightBytes + (LlamaKvBytesPerToken * 32_000)) / (4 * H100Bandwidth);
        AssertClose(expected, model.DecodeStepSeconds(32_000));
    }

    [Fact]
    public void SwapSeconds_Llama70bOnFourH100_UsesFourHostLinks()
    {
        GpuCostModel model = Build("llama-3.1-70b", "h100-sxm", tp: 4);

        double bytes = LlamaKvBytesPerToken * 32_000;
        AssertClose(bytes / (4 * H100HostLink), model.SwapSeconds(bytes));
    }

    [Fact]
    public void KvBytesPerToken_HalfTheLayersKept_Halves()
    {
        GpuCostModel model = Build(compression: new KvCompression { LayersKept = 0.5 });

        AssertClose(2 * 30 * 8 * 128 * 2, model.KvBytesPerToken);
    }

    [Fact]
    public void KvBytesPerToken_QuarterOfHeadsKept_Quarters()
    {
        GpuCostModel model = Build(compression: new KvCompression { HeadsKept = 0.25 });

        AssertClose(2 * 60 * 2 * 128 * 2, model.KvBytesPerToken);
    }

    [Fact]
    public void KvBytesPerToken_FortyPercentOfTokensKept_ScalesByFraction()
    {
        GpuCostModel model = Build(compression: new KvCompression { TokensKept = 0.4 });

        AssertClose(245_760 * 0.4, model.KvBytesPerToken); // = 98,304
    }

    [Fact]
    public void KvBytesPerStoredToken_FortyPercentOfTokensKept_IsUnscaled()
    {
        GpuCostModel model = Build(compression: new KvCompression { TokensKept = 0.4 });

        AssertClose(YiKvBytesPerToken, model.KvBytesPerStoredToken);
    }

    [Fact]
    public void KvBytesPerToken_FourBitKv_IsHalfAByteAnElement()
    {
        GpuCostModel model = Build(compression: new KvCompression { Bits = 4 });

        AssertClose(2 * 60 * 8 * 128 * (4 / 8.0), model.KvBytesPerToken); // = 61,440
    }

    [Fact]
    public void PrefillSeconds_HalfTheLayersKept_HalvesFlops()
    {
        GpuCostModel model = Build(compression: new KvCompression { LayersKept = 0.5 });

        double s = 50_000;
        double expected = 0.5 * ((2 * YiParameters * s) + (YiAttentionFlopsPerPair * s * (s + 1) / 2)) / A100Flops;
        AssertClose(expected, model.PrefillSeconds(50_000, 0));
    }

    [Fact]
    public void DecodeStepSeconds_FourBitKv_ReadsQuarterOfTheKv()
    {
        GpuCostModel model = Build(compression: new KvCompression { Bits = 4 });

        double expected = (YiWeightBytes + (YiKvBytesPerToken / 4 * 50_000)) / A100Bandwidth;
        AssertClose(expected, model.DecodeStepSeconds(50_000));
    }

    [Fact]
    public void SwapSeconds_FourBitKv_IsQuarterOfBf16Swap()
    {
        GpuCostModel model = Build(compression: new KvCompression { Bits = 4 });

        double expected = YiKvBytesPerToken / 4 * 50_000 / A100HostLink; // = 0.096 s
        AssertClose(expected, model.SwapSeconds(model.KvBytes(50_000)));
    }

    [Fact]
    public void MaxConcurrentUsers_FourBitKvAt50k_RisesToFour()
    {
        GpuCostModel model = Build(compression: new KvCompression { Bits = 4 });

        // 14,971,862,272 / (61,440 x 50,000 = 3,072,000,000) = 4.87
        Assert.Equal(4, model.MaxConcurrentUsers(50_000));
    }

    [Fact]
    public void PrefillSeconds_HalfComputeUtilization_Doubles()
    {
        GpuCostModel model = Build(efficiency: new Efficiency { PrefillComputeUtilization = 0.5 });

        double s = 50_000;
        double expected = ((2 * YiParameters * s) + (YiAttentionFlopsPerPair * s * (s + 1) / 2)) / (0.5 * A100Flops);
        AssertClose(expected, model.PrefillSeconds(50_000, 0));
    }

    [Fact]
    public void DecodeStepSeconds_EightyPercentBandwidthUtilization_TakesOneOverPointEightLonger()
    {
        GpuCostModel model = Build(efficiency: new Efficiency { DecodeBandwidthUtilization = 0.8 });

        double expected = (YiWeightBytes + (YiKvBytesPerToken * 50_000)) / (0.8 * A100Bandwidth);
        AssertClose(expected, model.DecodeStepSeconds(50_000));
    }

    [Fact]
    public void Constructor_TensorParallelZero_ThrowsNamingTp()
    {
        var deployment = Deployment.Default with { TensorParallel = 0 };

        var ex = Assert.Throws<ProfileException>(() => new GpuCostModel(deployment));

        Assert.StartsWith("tp:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_TokensKeptAboveOne_ThrowsNamingKvTokens()
    {
        var deployment = Deployment.Default with { Compression = new KvCompression { TokensKept = 1.5 } };

        var ex = Assert.Throws<ProfileException>(() => new GpuCostModel(deployment));

        Assert.StartsWith("kvTokens:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ZeroComputeUtilization_ThrowsNamingTheField()
    {
        var deployment = Deployment.Default with { Efficiency = new Efficiency { PrefillComputeUtilization = 0 } };

        var ex = Assert.Throws<ProfileException>(() => new GpuCostModel(deployment));

        Assert.StartsWith("prefillComputeUtilization:", ex.Message, StringComparison.Ordinal);
    }

    private static GpuCostModel Build(
        string modelId = "yi-34b",
        string gpuId = "a100-80gb",
        int tp = 1,
        KvCompression? compression = null,
        Efficiency? efficiency = null) =>
        new(new Deployment
        {
            Model = Presets.FindModel(modelId) ?? throw new InvalidOperationException($"no model preset {modelId}"),
            Gpu = Presets.FindGpu(gpuId) ?? throw new InvalidOperationException($"no GPU preset {gpuId}"),
            TensorParallel = tp,
            Compression = compression ?? KvCompression.None,
            Efficiency = efficiency ?? new Efficiency(),
        });

    private static void AssertClose(double expected, double actual) =>
        Assert.Equal(expected, actual, Math.Abs(expected) * RelativeTolerance);
}
