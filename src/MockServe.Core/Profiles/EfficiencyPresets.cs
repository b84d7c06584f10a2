namespace MockServe.Core.Profiles;

/// <summary>
/// The efficiency sets <c>--efficiency</c> names: <c>peak</c> (the datasheet roofline, no host time) and
/// <c>realistic</c> (per GPU, from published measurements; each value's source is in <see cref="Efficiency.Source"/>
/// and the README), or a file (<see cref="EfficiencyFile"/>), such as <c>mockserve calibrate</c> writes.
/// </summary>
public static class EfficiencyPresets
{
    public const string Peak = "peak";
    public const string Realistic = "realistic";

    // Host time of a vLLM step: the v0.6.0 post profiled Llama 3 8B on one H100 before that release: 33% of the time in
    // the API server and 29% in scheduling, 38% on the GPU, at 13 ms a token: about 8 ms of host time per step. vLLM
    // v1's async scheduling and SGLang's overlap scheduler run it while the GPU computes the previous step.
    private const double HostStepSeconds = 0.008;
    private const string HostSource =
        "host 8 ms a step, overlapped: vLLM blog 2024-09-05 (v0.6.0: Llama 3 8B on 1xH100, 62% of a 13 ms step outside the GPU), "
        + "overlapped as vLLM v1 async scheduling and SGLang's overlap scheduler do";

    private static readonly Dictionary<string, Efficiency> RealisticByGpu = new(StringComparer.OrdinalIgnoreCase)
    {
        ["a100-80gb"] = Measured(0.50, 0.55,
            "prefill 0.50: Databricks 'LLM Inference Performance Engineering' (2023), MPT-7B 512-token TTFT 46 ms on 1xA100 = 49% of 312 TFLOP/s; "
            + "decode 0.55: same post, MBU 55% on 4xA100-40GB at batch 1"),
        ["h100-sxm"] = Measured(0.50, 0.60,
            "prefill 0.50: FlashAttention-3 reaches 75% of H100 peak in its kernel, times the 0.67 of whole-system to kernel utilisation "
            + "measured on A100 (49% vs FlashAttention-2's 73%); decode 0.60: Databricks (2023), MBU 60% on 2xH100-80GB at batch 1"),
        ["h200"] = Measured(0.50, 0.60, "the H100's values (the same GH100 die; no published H200 measurement found)"),
        ["l40s"] = Measured(0.50, 0.55, "the A100's values (no published L40S measurement found)"),
        ["mi300x"] = Measured(0.50, 0.55,
            "prefill 0.50: the H100's (no published MI300X figure found); decode 0.55: vLLM on 1xMI300X ties 1xH200 on an 8B model "
            + "at one stream (alpharomercoma/MI300X-vs-H200 report) despite 1.10x the bandwidth: 0.60 x 1.02 / 1.10"),
    };

    /// <summary>The names and what they mean, for help texts.</summary>
    public static string Names => $"{Peak}|{Realistic}|FILE";

    /// <summary>
    /// The efficiency <paramref name="nameOrPath"/> names for <paramref name="gpu"/>: a set's name (any case) or an
    /// efficiency file (.json, .yaml, .yml).
    /// </summary>
    /// <exception cref="ProfileException">Unknown name, no realistic set for this GPU, or an unusable file.</exception>
    public static Efficiency Resolve(string nameOrPath, HardwareProfile gpu)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        ArgumentNullException.ThrowIfNull(gpu);
        if (string.Equals(nameOrPath, Peak, StringComparison.OrdinalIgnoreCase))
        {
            return Efficiency.Peak;
        }

        if (string.Equals(nameOrPath, Realistic, StringComparison.OrdinalIgnoreCase))
        {
            return RealisticByGpu.TryGetValue(gpu.Id, out var realistic)
                ? realistic
                : throw new ProfileException(
                    $"no realistic efficiency for GPU '{gpu.Id}' (there are sets for {string.Join(", ", RealisticByGpu.Keys)}): "
                    + "give an efficiency file, such as mockserve calibrate writes");
        }

        return ProfileLoader.HasProfileExtension(nameOrPath) || File.Exists(nameOrPath)
            ? EfficiencyFile.Load(nameOrPath)
            : throw new ProfileException($"unknown efficiency '{nameOrPath}': expected {Peak}, {Realistic} or an efficiency file (.json, .yaml or .yml)");
    }

    /// <summary>The realistic set of a preset GPU, or null.</summary>
    public static Efficiency? RealisticFor(string gpuId) => RealisticByGpu.GetValueOrDefault(gpuId);

    private static Efficiency Measured(double prefill, double decode, string source) => new()
    {
        PrefillComputeUtilization = prefill,
        DecodeBandwidthUtilization = decode,
        StepOverheadSeconds = HostStepSeconds,
        OverlapHostTime = true,
        Source = $"{source}; {HostSource}",
    };
}
