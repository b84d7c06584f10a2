namespace MockServe.Core.Profiles;

/// <summary>
/// KV compression along its four dimensions: layers, heads, tokens and hidden (bits per element).
/// Each factor scales KV bytes, and with them concurrency, decode step time and swap time.
/// </summary>
public sealed record KvCompression
{
    /// <summary>Fraction of layers that keep a KV cache (layer skipping or sharing); also cuts prefill FLOPs.</summary>
    public double LayersKept { get; init; } = 1.0;

    /// <summary>Fraction of KV heads kept (for example retrieval heads only).</summary>
    public double HeadsKept { get; init; } = 1.0;

    /// <summary>Fraction of tokens kept (eviction or merging).</summary>
    public double TokensKept { get; init; } = 1.0;

    /// <summary>Bits per stored element; null keeps the model's own KV element size.</summary>
    public double? Bits { get; init; }

    public static KvCompression None { get; } = new();

    public IReadOnlyList<SettingError> Validate()
    {
        var errors = new List<SettingError>();
        Efficiency.Fraction(errors, "kvLayers", LayersKept);
        Efficiency.Fraction(errors, "kvHeads", HeadsKept);
        Efficiency.Fraction(errors, "kvTokens", TokensKept);
        if (Bits is { } bits && !(bits >= 1 && bits <= 32))
        {
            errors.Add(new SettingError("kvBits", $"must be between 1 and 32, got {bits}"));
        }

        return errors;
    }
}
