namespace MockServe.Core.Profiles;

/// <summary>A model served on a tensor-parallel group of GPUs: everything the cost model prices.</summary>
public sealed record Deployment
{
    private readonly int? _tensorParallel;

    public required ModelProfile Model { get; init; }

    public required HardwareProfile Gpu { get; init; }

    /// <summary>
    /// Tensor-parallel degree, by default the GPU profile's GPU count; HBM, FLOP/s, HBM bandwidth and host
    /// links all scale by it.
    /// </summary>
    public int TensorParallel
    {
        get => _tensorParallel ?? Gpu.GpuCount;
        init => _tensorParallel = value;
    }

    public Efficiency Efficiency { get; init; } = new();

    /// <summary>
    /// Bits per stored weight (16 BF16, 8 FP8 or INT8, 4 AWQ/GPTQ; a fraction counts group scales, 4.25 for 4 bits
    /// with a 16-bit scale per 64 weights); null keeps the model profile's weightBytesPerParameter.
    /// </summary>
    public double? WeightBits { get; init; }

    /// <summary>Bytes per weight as served: <see cref="WeightBits"/> / 8, or the model profile's.</summary>
    public double WeightBytesPerParameter => WeightBits / 8 ?? Model.WeightBytesPerParameter;

    /// <summary>
    /// Whether the matmuls run on FP8 tensor cores: weights of 8 bits (FP8 W8A8, as vLLM serves FP8 checkpoints) on
    /// a GPU whose profile gives an FP8 peak. Weights of 4 bits are dequantised to BF16 for the matmul (W4A16).
    /// </summary>
    public bool ComputesInFp8 => WeightBytesPerParameter == 1 && Gpu.PeakFlopsFp8 > 0;

    /// <summary>Peak dense FLOP/s of one GPU for this deployment's matmuls: FP8 when <see cref="ComputesInFp8"/>, else BF16.</summary>
    public double PeakFlopsPerGpu => ComputesInFp8 ? Gpu.PeakFlopsFp8 : Gpu.PeakFlops;

    public KvCompression Compression { get; init; } = KvCompression.None;

    /// <summary>
    /// HBM per GPU kept back for activations, the CUDA context and allocator slack; never used for KV.
    /// </summary>
    public double ActivationReserveBytesPerGpu { get; init; } = 2.0 * 1024 * 1024 * 1024;

    public static Deployment Default => Presets.DefaultDeployment;

    /// <summary>
    /// Every problem, named by field: "tp", "kvLayers", "prefillComputeUtilization", "activationReserveBytes",
    /// and a profile's own fields below "model." or "gpu." ("model.layers").
    /// </summary>
    public IReadOnlyList<SettingError> Validate()
    {
        var errors = new List<SettingError>();
        errors.AddRange(Model.Validate().Select(e => ProfileField("model", e)));
        errors.AddRange(Gpu.Validate().Select(e => ProfileField("gpu", e)));
        errors.AddRange(Efficiency.Validate());
        errors.AddRange(Compression.Validate());
        if (WeightBits is { } bits && !(bits >= 1 && bits <= 32))
        {
            errors.Add(new SettingError("weightBits", $"must be between 1 and 32, got {bits}"));
        }

        if (TensorParallel is < 1 or > 64)
        {
            errors.Add(new SettingError("tp", $"must be between 1 and 64, got {TensorParallel}"));
        }

        if (ActivationReserveBytesPerGpu < 0 || ActivationReserveBytesPerGpu >= Gpu.HbmBytes)
        {
            errors.Add(new SettingError(
                "activationReserveBytes",
                $"must be at least 0 and below the GPU's HBM {Gpu.HbmBytes:G4}, got {ActivationReserveBytesPerGpu:G4}"));
        }

        return errors;
    }

    // A profile's Validate() says "field: problem" (profile files report the same text with a line number).
    private static SettingError ProfileField(string profile, string error)
    {
        int colon = error.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0
            ? new SettingError($"{profile}.{error[..colon]}", error[(colon + 2)..])
            : new SettingError(profile, error);
    }
}
