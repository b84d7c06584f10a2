namespace MockServe.Core.Engine;

/// <summary>Decides what one engine iteration runs.</summary>
internal interface ISchedulingPolicy
{
    string Name { get; }

    void Plan(InferenceEngine engine, StepPlan plan);
}

/// <summary>The scheduling policies that <see cref="EngineOptions.Scheduler"/> selects by name.</summary>
public static class SchedulingPolicies
{
    public const string PrefillFirst = "prefill-first";
    public const string ChunkedPrefill = "chunked-prefill";

    public static IReadOnlyList<string> Names { get; } = [ChunkedPrefill, PrefillFirst];

    internal static ISchedulingPolicy Create(string name) => name switch
    {
        PrefillFirst => new PrefillFirstPolicy(),
        ChunkedPrefill => new ChunkedPrefillPolicy(),
        _ => throw new ArgumentException($"scheduler: unknown policy '{name}', expected one of {string.Join(", ", Names)}", nameof(name)),
    };
}

/// <summary>
/// vLLM v0 without chunking (Orca-style): a waiting prompt runs, whole, before the next decode step, so a
/// long prompt stalls every stream for its full prefill.
/// </summary>
internal sealed class PrefillFirstPolicy : ISchedulingPolicy
{
    public string Name => SchedulingPolicies.PrefillFirst;

    public void Plan(InferenceEngine engine, StepPlan plan)
    {
        engine.ResumeSwapped(plan);
        long budget = engine.Options.MaxBatchedTokens;
        while (engine.NextWaiting is { } next)
        {
            // Prompts batch into one step up to the budget; a prompt longer than the budget runs alone.
            if (plan.PrefillTokens > 0 && plan.PrefillTokens + next.PrefillTarget > budget)
            {
                break;
            }

            if (!engine.TryAdmit(next, plan))
            {
                break;
            }

            engine.AddPrefill(next, next.PrefillTarget - next.KvTokens, plan);
        }

        if (plan.Prefills.Count == 0)
        {
            engine.PlanDecodes(plan);
        }
    }
}

/// <summary>
/// Sarathi-Serve / vLLM v1: every step decodes one token for each running sequence first, then spends the rest
/// of the token budget on prompt chunks, so a long prompt never stalls the streams for more than one step.
/// </summary>
internal sealed class ChunkedPrefillPolicy : ISchedulingPolicy
{
    public string Name => SchedulingPolicies.ChunkedPrefill;

    public void Plan(InferenceEngine engine, StepPlan plan)
    {
        engine.ResumeSwapped(plan);
        engine.PlanDecodes(plan);
        long budget = engine.Options.MaxBatchedTokens - plan.Decodes.Count;
        foreach (var seq in engine.RunningSequences)
        {
            if (budget <= 0)
            {
                return;
            }

            if (seq.IsPrefilling)
            {
                long chunk = Math.Min(seq.PrefillTarget - seq.KvTokens, budget);
                engine.AddPrefill(seq, chunk, plan);
                budget -= chunk;
            }
        }

        while (budget > 0 && engine.NextWaiting is { } next && engine.TryAdmit(next, plan))
        {
            long chunk = Math.Min(next.PrefillTarget - next.KvTokens, budget);
            engine.AddPrefill(next, chunk, plan);
            budget -= chunk;
        }
    }
}
