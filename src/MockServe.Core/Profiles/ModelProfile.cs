namespace MockServe.Core.Profiles;

/// <summary>The architecture figures of a decoder-only transformer that the cost model needs.</summary>
public sealed record ModelProfile
{
    public required string Id { get; init; }

    public string Name { get; init; } = "";

    public int Layers { get; init; }

    public int HiddenSize { get; init; }

    public int QueryHeads { get; init; }

    /// <summary>K/V heads: equal to <see cref="QueryHeads"/> for MHA, 1 for MQA; unused for MLA.</summary>
    public int KvHeads { get; init; }

    /// <summary>Per-head dimension of K and V (for MLA: of V and of the non-rotary part of K).</summary>
    public int HeadDim { get; init; }

    /// <summary>MLA only: the decoupled rotary key dimension added to each query/key head.</summary>
    public int RopeHeadDim { get; init; }

    /// <summary>MLA only: the width of the latent cached per token and layer (kv_lora_rank + rope dim).</summary>
    public int KvLatentDim { get; init; }

    public int FfnSize { get; init; }

    public int Vocabulary { get; init; }

    public double TotalParameters { get; init; }

    /// <summary>Parameters a token passes through; equals <see cref="TotalParameters"/> for a dense model.</summary>
    public double ActiveParameters { get; init; }

    /// <summary>MoE only: routed experts per MoE layer; 0 for a dense model.</summary>
    public int Experts { get; init; }

    /// <summary>MoE only: routed experts each token goes through.</summary>
    public int ExpertsPerToken { get; init; }

    public AttentionKind Attention { get; init; } = AttentionKind.Gqa;

    public int MaxContext { get; init; }

    public double WeightBytesPerParameter { get; init; } = 2;

    public double KvBytesPerElement { get; init; } = 2;

    /// <summary>Where the figures come from.</summary>
    public string Source { get; init; } = "";

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        Positive(errors, "layers", Layers);
        Positive(errors, "hiddenSize", HiddenSize);
        Positive(errors, "queryHeads", QueryHeads);
        Positive(errors, "headDim", HeadDim);
        Positive(errors, "ffnSize", FfnSize);
        Positive(errors, "vocabulary", Vocabulary);
        Positive(errors, "maxContext", MaxContext);
        Positive(errors, "totalParameters", TotalParameters);
        Positive(errors, "activeParameters", ActiveParameters);
        Positive(errors, "weightBytesPerParameter", WeightBytesPerParameter);
        Positive(errors, "kvBytesPerElement", KvBytesPerElement);
        if (string.IsNullOrWhiteSpace(Id))
        {
            errors.Add("id: must not be empty");
        }

        if (ActiveParameters > TotalParameters)
        {
            errors.Add($"activeParameters: {ActiveParameters:G4} is more than totalParameters {TotalParameters:G4}");
        }

        if (RopeHeadDim < 0)
        {
            errors.Add($"ropeHeadDim: must be zero or more, got {RopeHeadDim}");
        }

        if (Experts < 0 || ExpertsPerToken < 0)
        {
            errors.Add($"experts: must be zero or more, got experts {Experts} and expertsPerToken {ExpertsPerToken}");
        }
        else if (ActiveParameters < TotalParameters && !(Experts > 1 && ExpertsPerToken >= 1 && ExpertsPerToken < Experts))
        {
            errors.Add($"experts: an MoE (activeParameters {ActiveParameters:G4} < totalParameters {TotalParameters:G4}) needs experts > 1 and expertsPerToken between 1 and experts - 1, got {Experts} and {ExpertsPerToken}");
        }

        if (Attention == AttentionKind.Mla)
        {
            Positive(errors, "kvLatentDim", KvLatentDim);
        }
        else
        {
            Positive(errors, "kvHeads", KvHeads);
            if (KvHeads > QueryHeads)
            {
                errors.Add($"kvHeads: {KvHeads} is more than queryHeads {QueryHeads}");
            }
            else if (KvHeads > 0 && QueryHeads % KvHeads != 0)
            {
                errors.Add($"kvHeads: {KvHeads} does not divide queryHeads {QueryHeads}");
            }

            if (Attention == AttentionKind.Mha && KvHeads != QueryHeads)
            {
                errors.Add($"kvHeads: MHA needs kvHeads = queryHeads ({QueryHeads}), got {KvHeads}");
            }

            if (Attention == AttentionKind.Mqa && KvHeads != 1)
            {
                errors.Add($"kvHeads: MQA needs kvHeads = 1, got {KvHeads}");
            }
        }

        return errors;
    }

    internal static void Positive(List<string> errors, string field, double value)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            errors.Add($"{field}: must be a positive number, got {value}");
        }
    }
}
