namespace MockServe.Core.Profiles;

/// <summary>How a model's attention stores its KV cache.</summary>
public enum AttentionKind
{
    /// <summary>Multi-head attention: one K and one V head per query head.</summary>
    Mha,

    /// <summary>Grouped-query attention: several query heads share a K/V head.</summary>
    Gqa,

    /// <summary>Multi-query attention: all query heads share one K/V head.</summary>
    Mqa,

    /// <summary>Multi-head latent attention (DeepSeek-V2): one compressed latent vector per layer.</summary>
    Mla,
}
