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

    public KvCompression Compression { get; init; } = KvCompression.None;

    /// <summary>
    /// HBM per GPU kept back for activations, the CUDA context and allocator slack; never used for KV.
    /// </summary>
    public double ActivationReserveBytesPerGpu { get; init; } = 2.0 * 1024 * 1024 * 1024;

    public static Deployment Default => Presets.DefaultDeployment;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        errors.AddRange(Model.Validate().Select(e => $"model.{e}"));
        errors.AddRange(Gpu.Validate().Select(e => $"gpu.{e}"));
        errors.AddRange(Efficiency.Validate());
        errors.AddRange(Compression.Validate());
        if (TensorParallel is < 1 or > 64)
        {
            errors.Add($"tp: must be between 1 and 64, got {TensorParallel}");
        }

        if (ActivationReserveBytesPerGpu < 0 || ActivationReserveBytesPerGpu >= Gpu.HbmBytes)
        {
            errors.Add($"activationReserveBytes: must be at least 0 and below the GPU's HBM {Gpu.HbmBytes:G4}, got {ActivationReserveBytesPerGpu:G4}");
        }

        return errors;
    }
}
