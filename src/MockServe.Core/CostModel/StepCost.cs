namespace MockServe.Core.CostModel;

/// <summary>The work of one engine iteration, accumulated sequence by sequence.</summary>
public struct StepCost
{
    /// <summary>Tokens the step runs through the weights (decode tokens plus prefill chunk tokens).</summary>
    public long Tokens { get; private set; }

    /// <summary>(query, key) pairs the step's attention computes.</summary>
    public double AttentionPairs { get; private set; }

    /// <summary>Cached tokens whose KV the step reads from HBM.</summary>
    public double KvTokensRead { get; private set; }

    /// <summary>Sequences in the step's batch (each decode, each prefill chunk): what per-sequence host time counts.</summary>
    public int Sequences { get; private set; }

    /// <summary>One decode token for a sequence with <paramref name="context"/> tokens cached.</summary>
    public void AddDecode(long context)
    {
        Tokens++;
        Sequences++;
        AttentionPairs += context + 1;
        KvTokensRead += context;
    }

    /// <summary>A prefill chunk of <paramref name="newTokens"/> after <paramref name="cachedTokens"/>.</summary>
    public void AddPrefill(long newTokens, long cachedTokens)
    {
        if (newTokens <= 0)
        {
            return;
        }

        double s = newTokens;
        Tokens += newTokens;
        Sequences++;
        AttentionPairs += (s * cachedTokens) + (s * (s + 1) / 2);
        KvTokensRead += cachedTokens;
    }
}
