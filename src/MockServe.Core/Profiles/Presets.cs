namespace MockServe.Core.Profiles;

/// <summary>Built-in model and GPU profiles, from public model configs and vendor datasheets.</summary>
public static class Presets
{
    private const double GiB = 1024.0 * 1024 * 1024;

    public const string DefaultModelId = "yi-34b";
    public const string DefaultGpuId = "a100-80gb";

    public static IReadOnlyList<ModelProfile> Models { get; } =
    [
        new ModelProfile
        {
            Id = "yi-34b",
            Name = "Yi-34B",
            Layers = 60,
            HiddenSize = 7168,
            QueryHeads = 56,
            KvHeads = 8,
            HeadDim = 128,
            FfnSize = 20480,
            Vocabulary = 64000,
            // 60 x (attention 117.4M + SwiGLU MLP 440.4M) + untied embedding and LM head 2 x 458.8M.
            TotalParameters = 34.39e9,
            ActiveParameters = 34.39e9,
            Attention = AttentionKind.Gqa,
            MaxContext = 200_000,
            Source = "01-ai/Yi-34B-200K config.json",
        },
        new ModelProfile
        {
            Id = "llama-3.1-8b",
            Name = "Llama 3.1 8B",
            Layers = 32,
            HiddenSize = 4096,
            QueryHeads = 32,
            KvHeads = 8,
            HeadDim = 128,
            FfnSize = 14336,
            Vocabulary = 128256,
            TotalParameters = 8.03e9,
            ActiveParameters = 8.03e9,
            Attention = AttentionKind.Gqa,
            MaxContext = 131_072,
            Source = "meta-llama/Llama-3.1-8B config.json and model card",
        },
        new ModelProfile
        {
            Id = "llama-3.1-70b",
            Name = "Llama 3.1 70B",
            Layers = 80,
            HiddenSize = 8192,
            QueryHeads = 64,
            KvHeads = 8,
            HeadDim = 128,
            FfnSize = 28672,
            Vocabulary = 128256,
            TotalParameters = 70.55e9,
            ActiveParameters = 70.55e9,
            Attention = AttentionKind.Gqa,
            MaxContext = 131_072,
            Source = "meta-llama/Llama-3.1-70B config.json and model card",
        },
        new ModelProfile
        {
            Id = "mixtral-8x7b",
            Name = "Mixtral 8x7B",
            Layers = 32,
            HiddenSize = 4096,
            QueryHeads = 32,
            KvHeads = 8,
            HeadDim = 128,
            FfnSize = 14336,
            Vocabulary = 32000,
            // 8 experts, 2 routed per token: all 46.7B resident, 12.9B touched per token.
            TotalParameters = 46.7e9,
            ActiveParameters = 12.9e9,
            Experts = 8,
            ExpertsPerToken = 2,
            Attention = AttentionKind.Gqa,
            MaxContext = 32_768,
            Source = "mistralai/Mixtral-8x7B-v0.1 config.json; Jiang et al. 2024, arXiv:2401.04088",
        },
        new ModelProfile
        {
            Id = "deepseek-v2-lite",
            Name = "DeepSeek-V2-Lite",
            Layers = 27,
            HiddenSize = 2048,
            QueryHeads = 16,
            KvHeads = 16,
            HeadDim = 128,
            RopeHeadDim = 64,
            // kv_lora_rank 512 + qk_rope_head_dim 64: the latent and decoupled key cached per token and layer.
            KvLatentDim = 576,
            FfnSize = 10944,
            Vocabulary = 102400,
            TotalParameters = 15.7e9,
            ActiveParameters = 2.4e9,
            // 64 routed experts, 6 per token; the 2 shared experts count among the always-active parameters.
            Experts = 64,
            ExpertsPerToken = 6,
            Attention = AttentionKind.Mla,
            MaxContext = 32_768,
            Source = "deepseek-ai/DeepSeek-V2-Lite config.json; DeepSeek-AI 2024, arXiv:2405.04434",
        },
    ];

    public static IReadOnlyList<HardwareProfile> Gpus { get; } =
    [
        new HardwareProfile
        {
            Id = "a100-80gb",
            Name = "NVIDIA A100 SXM4 80GB",
            HbmBytes = 80 * GiB,
            HbmBandwidth = 2.039e12,
            PeakFlops = 312e12,
            HostLinkBandwidth = 32e9,
            HostMemoryBytes = 256 * GiB,
            InterconnectBandwidth = 600e9,
            // Ampere has no FP8 tensor cores: 8-bit weights save memory and bandwidth, the matmuls stay BF16 here.
            Source = "NVIDIA A100 Tensor Core GPU datasheet (SXM4 80GB); PCIe 4.0 x16",
        },
        new HardwareProfile
        {
            Id = "h100-sxm",
            Name = "NVIDIA H100 SXM5 80GB",
            HbmBytes = 80 * GiB,
            HbmBandwidth = 3.35e12,
            PeakFlops = 989e12,
            PeakFlopsFp8 = 1979e12,
            HostLinkBandwidth = 64e9,
            HostMemoryBytes = 256 * GiB,
            InterconnectBandwidth = 900e9,
            Source = "NVIDIA H100 Tensor Core GPU datasheet (SXM5; FP8 3,958 TFLOPS with sparsity, half dense); PCIe 5.0 x16",
        },
        new HardwareProfile
        {
            Id = "h200",
            Name = "NVIDIA H200 SXM 141GB",
            // Marketed as 141 GB; like the other presets' "80GB", the figure is binary gigabytes.
            HbmBytes = 141 * GiB,
            HbmBandwidth = 4.8e12,
            PeakFlops = 989e12,
            PeakFlopsFp8 = 1979e12,
            HostLinkBandwidth = 64e9,
            HostMemoryBytes = 256 * GiB,
            InterconnectBandwidth = 900e9,
            Source = "NVIDIA H200 Tensor Core GPU datasheet (SXM; FP8 3,958 TFLOPS with sparsity, half dense); PCIe 5.0 x16",
        },
        new HardwareProfile
        {
            Id = "l40s",
            Name = "NVIDIA L40S 48GB",
            HbmBytes = 48 * GiB,
            HbmBandwidth = 864e9,
            PeakFlops = 362.05e12,
            PeakFlopsFp8 = 733e12,
            HostLinkBandwidth = 32e9,
            HostMemoryBytes = 128 * GiB,
            // No NVLink: tensor parallelism goes over PCIe 4.0.
            InterconnectBandwidth = 32e9,
            Source = "NVIDIA L40S datasheet (GDDR6, BF16 and FP8 dense without sparsity: FP8 1,466 TFLOPS with it); PCIe 4.0 x16",
        },
        new HardwareProfile
        {
            Id = "mi300x",
            Name = "AMD Instinct MI300X 192GB",
            HbmBytes = 192 * GiB,
            HbmBandwidth = 5.3e12,
            PeakFlops = 1307.4e12,
            PeakFlopsFp8 = 2614.9e12,
            HostLinkBandwidth = 64e9,
            HostMemoryBytes = 256 * GiB,
            InterconnectBandwidth = 896e9,
            Source = "AMD Instinct MI300X data sheet (BF16 and FP8 dense); PCIe 5.0 x16, Infinity Fabric 896 GB/s",
        },
    ];

    public static Deployment DefaultDeployment { get; } = new()
    {
        Model = FindModel(DefaultModelId)!,
        Gpu = FindGpu(DefaultGpuId)!,
    };

    public static ModelProfile? FindModel(string id) =>
        Models.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase));

    public static HardwareProfile? FindGpu(string id) =>
        Gpus.FirstOrDefault(g => string.Equals(g.Id, id, StringComparison.OrdinalIgnoreCase));
}
