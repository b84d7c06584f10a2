namespace MockServe.Core.Capacity;

/// <summary>The four throughput metrics: whichever is nearest its ceiling is the one that stops more load.</summary>
public enum BindingLimit
{
    /// <summary>HBM full: no room for another user's context.</summary>
    Concurrency,

    /// <summary>The GPUs' compute busy prefilling prompts.</summary>
    Prefilling,

    /// <summary>The GPUs' memory bandwidth busy decoding.</summary>
    Decoding,

    /// <summary>The host link busy moving sessions' KV between HBM and host memory.</summary>
    ContextSwitching,
}

/// <summary>The binding limit at a point and the utilisation that shows it.</summary>
public sealed record BindingLimitChoice(BindingLimit Limit, double Utilisation)
{
    /// <summary>
    /// The metric with the largest share of its ceiling: how full HBM is (concurrency), or GPU time spent prefilling,
    /// decoding, or swapping over the host link. Each is a fraction of one, so they compare directly; a tie goes to
    /// the earlier in that order, so the choice is the same on every machine.
    /// </summary>
    public static BindingLimitChoice Choose(double concurrencyShare, double prefillBusy, double decodeBusy, double swapBusy)
    {
        var best = new BindingLimitChoice(BindingLimit.Concurrency, concurrencyShare);
        foreach (var (limit, share) in new[] { (BindingLimit.Prefilling, prefillBusy), (BindingLimit.Decoding, decodeBusy), (BindingLimit.ContextSwitching, swapBusy) })
        {
            if (share > best.Utilisation)
            {
                best = new BindingLimitChoice(limit, share);
            }
        }

        return best;
    }
}
