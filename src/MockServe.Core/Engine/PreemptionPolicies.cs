namespace MockServe.Core.Engine;

/// <summary>What happens to a running sequence evicted from HBM.</summary>
internal interface IPreemptionPolicy
{
    string Name { get; }

    void Preempt(InferenceEngine engine, Sequence victim, StepPlan plan);
}

/// <summary>The preemption modes that <see cref="EngineOptions.Preemption"/> selects by name.</summary>
public static class PreemptionPolicies
{
    public const string Swap = "swap";
    public const string Recompute = "recompute";

    public static IReadOnlyList<string> Names { get; } = [Swap, Recompute];

    internal static IPreemptionPolicy Create(string name) => name switch
    {
        Swap => new SwapPreemption(),
        Recompute => new RecomputePreemption(),
        _ => throw new ArgumentException($"preemption: unknown mode '{name}', expected one of {string.Join(", ", Names)}", nameof(name)),
    };
}

/// <summary>Moves the victim's KV to host DDR over the host link; falls back to recompute when DDR is full.</summary>
internal sealed class SwapPreemption : IPreemptionPolicy
{
    public string Name => PreemptionPolicies.Swap;

    public void Preempt(InferenceEngine engine, Sequence victim, StepPlan plan)
    {
        if (!engine.TrySwapOut(victim, plan))
        {
            engine.DropForRecompute(victim);
        }
    }
}

/// <summary>Drops the victim's KV; it waits again and prefills prompt and output so far from scratch.</summary>
internal sealed class RecomputePreemption : IPreemptionPolicy
{
    public string Name => PreemptionPolicies.Recompute;

    public void Preempt(InferenceEngine engine, Sequence victim, StepPlan plan) => engine.DropForRecompute(victim);
}
