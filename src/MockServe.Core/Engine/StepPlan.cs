using MockServe.Core.CostModel;

namespace MockServe.Core.Engine;

/// <summary>What one iteration does, filled in by the scheduling policy; reused from step to step.</summary>
internal sealed class StepPlan
{
    public List<Sequence> Decodes { get; } = [];

    public List<(Sequence Sequence, long Tokens)> Prefills { get; } = [];

    /// <summary>KV moved to host before the step computes: an idle session's (Sequence null) or a preempted sequence's.</summary>
    public List<(string? SessionId, Sequence? Sequence, double Bytes)> SwapOuts { get; } = [];

    public List<(Sequence Sequence, double Bytes)> SwapIns { get; } = [];

    public StepCost Cost;

    public double Start { get; set; }

    /// <summary>The step's compute phase: GPU time and host time, added or overlapped.</summary>
    public double ComputeSeconds { get; set; }

    /// <summary>Of <see cref="ComputeSeconds"/>, the time the GPU waited for the host.</summary>
    public double HostOnlySeconds { get; set; }

    public double SwapSeconds { get; set; }

    public long PrefillTokens { get; set; }

    /// <summary>Sum of the decoding sequences' contexts when the step began.</summary>
    public long DecodeKvTokens { get; set; }

    public bool IsEmpty => Decodes.Count == 0 && Prefills.Count == 0 && SwapOuts.Count == 0 && SwapIns.Count == 0;

    public void Clear()
    {
        Decodes.Clear();
        Prefills.Clear();
        SwapOuts.Clear();
        SwapIns.Clear();
        Cost = default;
        ComputeSeconds = 0;
        HostOnlySeconds = 0;
        SwapSeconds = 0;
        PrefillTokens = 0;
        DecodeKvTokens = 0;
    }
}
