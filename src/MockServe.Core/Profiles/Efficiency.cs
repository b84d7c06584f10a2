namespace MockServe.Core.Profiles;

/// <summary>
/// How far a real server falls short of the datasheet: the fractions of the peaks its kernels reach, and the host
/// time outside the GPU's kernels (scheduling, input preparation, sampling, tokenising, API handling). The defaults
/// are the theoretical peak with no host time (<see cref="Peak"/>).
/// </summary>
public sealed record Efficiency
{
    /// <summary>The theoretical roofline: every peak reached, no host time.</summary>
    public static Efficiency Peak { get; } = new();

    /// <summary>Fraction of peak FLOP/s a step's matmuls and attention reach (prefill is compute bound).</summary>
    public double PrefillComputeUtilization { get; init; } = 1.0;

    /// <summary>Fraction of peak HBM bandwidth a step's reads of weights and KV reach (decode is memory bound).</summary>
    public double DecodeBandwidthUtilization { get; init; } = 1.0;

    /// <summary>Host seconds of every engine step, whatever it holds: scheduling, preparing inputs, launching.</summary>
    public double StepOverheadSeconds { get; init; }

    /// <summary>Host seconds a step adds per sequence in its batch (decoding or prefilling a chunk).</summary>
    public double StepOverheadPerSequenceSeconds { get; init; }

    /// <summary>
    /// Whether the host's step time runs while the GPU computes the previous step (vLLM v1's async scheduling, SGLang's
    /// overlap scheduler): a step then lasts the longer of the two; else their sum.
    /// </summary>
    public bool OverlapHostTime { get; init; }

    /// <summary>Host seconds before a request can be scheduled: API handling and tokenising its prompt.</summary>
    public double RequestOverheadSeconds { get; init; }

    /// <summary>Host seconds after a request's last token before its response ends: detokenising, API handling.</summary>
    public double FinishOverheadSeconds { get; init; }

    /// <summary>Where the values come from.</summary>
    public string Source { get; init; } = "";

    /// <summary>Host seconds of a step that runs <paramref name="sequences"/> sequences.</summary>
    public double HostStepSeconds(int sequences) => StepOverheadSeconds + (StepOverheadPerSequenceSeconds * sequences);

    /// <summary>A step's duration given its GPU time and its sequences: overlapped or added, as <see cref="OverlapHostTime"/> says.</summary>
    public double StepSeconds(double gpuSeconds, int sequences)
    {
        double host = HostStepSeconds(sequences);
        return OverlapHostTime ? Math.Max(gpuSeconds, host) : gpuSeconds + host;
    }

    public IReadOnlyList<SettingError> Validate()
    {
        var errors = new List<SettingError>();
        Fraction(errors, "prefillComputeUtilization", PrefillComputeUtilization);
        Fraction(errors, "decodeBandwidthUtilization", DecodeBandwidthUtilization);
        Seconds(errors, "stepOverheadSeconds", StepOverheadSeconds);
        Seconds(errors, "stepOverheadPerSequenceSeconds", StepOverheadPerSequenceSeconds);
        Seconds(errors, "requestOverheadSeconds", RequestOverheadSeconds);
        Seconds(errors, "finishOverheadSeconds", FinishOverheadSeconds);
        return errors;
    }

    internal static void Fraction(List<SettingError> errors, string field, double value)
    {
        if (!(value > 0 && value <= 1))
        {
            errors.Add(new SettingError(field, $"must be in (0, 1], got {value}"));
        }
    }

    // A host time of a minute or more per step or request is a unit mistake (milliseconds given as seconds).
    private static void Seconds(List<SettingError> errors, string field, double value)
    {
        if (!(value >= 0 && value < 60))
        {
            errors.Add(new SettingError(field, $"must be at least 0 and below 60 seconds, got {value}"));
        }
    }
}
