namespace MockServe.Core.Profiles;

/// <summary>One accelerator's datasheet figures, all in bytes, bytes per second and FLOP per second.</summary>
public sealed record HardwareProfile
{
    public required string Id { get; init; }

    public string Name { get; init; } = "";

    public double HbmBytes { get; init; }

    public double HbmBandwidth { get; init; }

    /// <summary>Peak dense BF16 tensor throughput, without sparsity.</summary>
    public double PeakFlops { get; init; }

    /// <summary>Peak dense FP8 tensor throughput, without sparsity; 0 for a GPU without FP8 tensor cores.</summary>
    public double PeakFlopsFp8 { get; init; }

    /// <summary>Host link (PCIe) bandwidth per direction, used for KV swaps to host DDR.</summary>
    public double HostLinkBandwidth { get; init; }

    /// <summary>Host DDR set aside for swapped KV, per GPU.</summary>
    public double HostMemoryBytes { get; init; }

    /// <summary>GPU-to-GPU bandwidth (NVLink, Infinity Fabric) for tensor parallelism.</summary>
    public double InterconnectBandwidth { get; init; }

    /// <summary>GPUs in one tensor-parallel group.</summary>
    public int GpuCount { get; init; } = 1;

    public string Source { get; init; } = "";

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Id))
        {
            errors.Add("id: must not be empty");
        }

        ModelProfile.Positive(errors, "hbmBytes", HbmBytes);
        ModelProfile.Positive(errors, "hbmBandwidth", HbmBandwidth);
        ModelProfile.Positive(errors, "peakFlops", PeakFlops);
        ModelProfile.Positive(errors, "hostLinkBandwidth", HostLinkBandwidth);
        ModelProfile.Positive(errors, "interconnectBandwidth", InterconnectBandwidth);
        if (PeakFlopsFp8 < 0 || double.IsNaN(PeakFlopsFp8) || double.IsInfinity(PeakFlopsFp8))
        {
            errors.Add($"peakFlopsFp8: must be zero (no FP8) or more, got {PeakFlopsFp8}");
        }

        if (HostMemoryBytes < 0 || double.IsNaN(HostMemoryBytes) || double.IsInfinity(HostMemoryBytes))
        {
            errors.Add($"hostMemoryBytes: must be zero or more, got {HostMemoryBytes}");
        }

        if (GpuCount is < 1 or > 64)
        {
            errors.Add($"gpuCount: must be between 1 and 64, got {GpuCount}");
        }

        return errors;
    }
}
