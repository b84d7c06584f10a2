using MockServe.Core.Profiles;

namespace MockServe.Core.CostModel;

/// <summary>
/// Roofline prices for one deployment: how long a prefill, a decode step and a KV swap take on the modelled
/// GPU group, and how much KV fits. Formulas and their sources: docs/cost-model.md.
/// </summary>
public sealed class GpuCostModel
{
    private readonly double _flopsPerSecond;
    private readonly double _bytesPerSecond;
    private readonly double _hostLinkBytesPerSecond;
    private readonly double _attentionFlopsPerPair;

    public GpuCostModel(Deployment deployment)
    {
        var errors = deployment.Validate();
        if (errors.Count > 0)
        {
            throw new ProfileException(string.Join("; ", errors));
        }

        Deployment = deployment;
        var model = deployment.Model;
        var kv = deployment.Compression;
        int tp = deployment.TensorParallel;

        double elementBytes = kv.Bits is { } bits ? bits / 8.0 : model.KvBytesPerElement;
        double layers = model.Layers * kv.LayersKept;
        // Per token and layer: MLA caches one latent vector; MHA/GQA/MQA cache K and V for each KV head.
        double elementsPerLayer = model.Attention == AttentionKind.Mla
            ? model.KvLatentDim * kv.HeadsKept
            : 2.0 * model.KvHeads * kv.HeadsKept * model.HeadDim;
        KvBytesPerStoredToken = layers * elementsPerLayer * elementBytes;
        KvBytesPerToken = KvBytesPerStoredToken * kv.TokensKept;

        WeightBytes = model.TotalParameters * deployment.WeightBytesPerParameter;
        ActiveWeightBytes = model.ActiveParameters * deployment.WeightBytesPerParameter;
        HbmBytes = deployment.Gpu.HbmBytes * tp;
        KvCapacityBytes = Math.Max(0, HbmBytes - WeightBytes - (deployment.ActivationReserveBytesPerGpu * tp));
        HostCapacityBytes = deployment.Gpu.HostMemoryBytes * tp;

        // QK^T and PV for one (query, key) pair: 2 FLOPs per multiply-add over d_qk and d_v, per head and layer.
        int qkDim = model.HeadDim + model.RopeHeadDim;
        _attentionFlopsPerPair = 2.0 * model.Layers * kv.LayersKept * model.QueryHeads * (qkDim + model.HeadDim);
        _flopsPerSecond = deployment.PeakFlopsPerGpu * deployment.Efficiency.PrefillComputeUtilization * tp;
        _bytesPerSecond = deployment.Gpu.HbmBandwidth * deployment.Efficiency.DecodeBandwidthUtilization * tp;
        // Each GPU of the group has its own host link and moves its own shard of the KV.
        _hostLinkBytesPerSecond = deployment.Gpu.HostLinkBandwidth * tp;
    }

    public Deployment Deployment { get; }

    /// <summary>KV bytes one token adds, with every compression factor applied.</summary>
    public double KvBytesPerToken { get; }

    /// <summary>KV bytes of one token that is kept (token dropping not applied): the unit of paged blocks.</summary>
    public double KvBytesPerStoredToken { get; }

    /// <summary>All weights, resident in HBM across the group.</summary>
    public double WeightBytes { get; }

    /// <summary>Weights one token passes through (the active experts of an MoE).</summary>
    public double ActiveWeightBytes { get; }

    public double HbmBytes { get; }

    /// <summary>HBM left for KV: HBM minus weights minus the activation reserve, over the whole group.</summary>
    public double KvCapacityBytes { get; }

    /// <summary>Host DDR available for swapped KV, over the whole group.</summary>
    public double HostCapacityBytes { get; }

    public double KvBytes(long contextTokens) => KvBytesPerToken * contextTokens;

    /// <summary>
    /// Prefill tokens per second at the compute peak: peak FLOP/s x utilisation x GPUs over the weight matmuls'
    /// 2 FLOPs per active parameter per token (the first term of <see cref="Flops"/>). Attention is left out, so
    /// this is the ceiling a short prompt approaches; a long one falls below it as its causal pairs grow.
    /// </summary>
    public double PeakPrefillTokensPerSecond =>
        _flopsPerSecond / (2.0 * Deployment.Model.ActiveParameters * Deployment.Compression.LayersKept);

    /// <summary>KV bytes per second the group's host links move one way: each GPU's link times the GPUs.</summary>
    public double HostLinkBytesPerSecond => _hostLinkBytesPerSecond;

    /// <summary>
    /// Output tokens per second of a decode batch of <paramref name="batch"/> sequences, each with
    /// <paramref name="context"/> tokens cached: one token each per step of <see cref="StepSeconds"/>.
    /// </summary>
    public double DecodeTokensPerSecond(int batch, long context)
    {
        if (batch <= 0)
        {
            return 0;
        }

        var cost = default(StepCost);
        for (int i = 0; i < batch; i++)
        {
            cost.AddDecode(context);
        }

        return batch / StepSeconds(cost);
    }

    /// <summary>Users whose whole context is resident at once.</summary>
    public long MaxConcurrentUsers(long contextTokens) =>
        contextTokens <= 0 ? 0 : (long)Math.Floor(KvCapacityBytes / KvBytes(contextTokens));

    /// <summary>
    /// Prefill of <paramref name="newTokens"/> after <paramref name="cachedTokens"/>: compute bound (see
    /// <see cref="Flops"/>), floored by one read of the weights and the cached KV, which decides only for
    /// prompts of a few hundred tokens or less.
    /// </summary>
    public double PrefillSeconds(long newTokens, long cachedTokens)
    {
        var cost = default(StepCost);
        cost.AddPrefill(newTokens, cachedTokens);
        return StepSeconds(cost);
    }

    /// <summary>One decode step for a batch: the larger of memory time and compute time.</summary>
    public double DecodeStepSeconds(ReadOnlySpan<long> contexts)
    {
        var cost = default(StepCost);
        foreach (long context in contexts)
        {
            cost.AddDecode(context);
        }

        return StepSeconds(cost);
    }

    /// <summary>One decode step for a single sequence with <paramref name="context"/> tokens cached.</summary>
    public double DecodeStepSeconds(long context) => DecodeStepSeconds([context]);

    /// <summary>Decoding <paramref name="tokens"/> tokens one by one, starting at <paramref name="context"/>.</summary>
    public double DecodeSeconds(long context, long tokens)
    {
        double total = 0;
        for (long i = 0; i < tokens; i++)
        {
            total += DecodeStepSeconds(context + i);
        }

        return total;
    }

    /// <summary>Moving <paramref name="bytes"/> of KV one way between HBM and host DDR.</summary>
    public double SwapSeconds(double bytes) => bytes <= 0 ? 0 : bytes / _hostLinkBytesPerSecond;

    /// <summary>
    /// An iteration's duration: its GPU time (<see cref="GpuStepSeconds"/>) and the host's time for the step (a fixed
    /// part and a part per sequence), added, or overlapped when the server schedules asynchronously
    /// (<see cref="Efficiency.StepSeconds"/>).
    /// </summary>
    public double StepSeconds(in StepCost cost) =>
        cost.Tokens == 0 ? 0 : Deployment.Efficiency.StepSeconds(GpuStepSeconds(cost), cost.Sequences);

    /// <summary>
    /// An iteration's GPU time: its FLOPs over the compute rate, or the bytes it reads (weights once, plus every
    /// sequence's cached KV) over the bandwidth, whichever is longer (the roofline).
    /// </summary>
    public double GpuStepSeconds(in StepCost cost)
    {
        if (cost.Tokens == 0)
        {
            return 0;
        }

        double bytes = WeightBytesRead(cost.Tokens) + (KvBytesPerToken * cost.KvTokensRead);
        return Math.Max(Flops(cost) / _flopsPerSecond, bytes / _bytesPerSecond);
    }

    /// <summary>
    /// FLOPs of a step: 2 per active parameter per token for the weight matmuls (Kaplan et al. 2020), plus
    /// QK^T and PV for every causal (query, key) pair. Skipped layers do no work.
    /// </summary>
    public double Flops(in StepCost cost) =>
        (2.0 * Deployment.Model.ActiveParameters * cost.Tokens * Deployment.Compression.LayersKept)
        + (_attentionFlopsPerPair * cost.AttentionPairs);

    /// <summary>The four throughput metrics of one context length.</summary>
    public CostSummary Summarize(long contextTokens, long decodeTokens = 1) => new(
        KvBytesPerToken: KvBytesPerToken,
        KvBytes: KvBytes(contextTokens),
        WeightBytes: WeightBytes,
        KvCapacityBytes: KvCapacityBytes,
        MaxConcurrentUsers: MaxConcurrentUsers(contextTokens),
        PrefillSeconds: PrefillSeconds(contextTokens, 0),
        DecodeSecondsPerToken: DecodeStepSeconds(contextTokens),
        DecodeSeconds: DecodeSeconds(contextTokens, decodeTokens),
        ContextSwitchSeconds: SwapSeconds(KvBytes(contextTokens)));

    /// <summary>
    /// Weight bytes a step with <paramref name="tokens"/> tokens reads. A dense model reads all of them. An MoE
    /// reads its shared part (attention, embeddings, shared experts) and each routed expert at least one token
    /// goes to: with uniform top-k routing of E experts, E (1 - (1 - k/E)^T) of them in expectation
    /// (Fedus et al. 2022 assume uniform load; Jiang et al. 2024, Mixtral).
    /// </summary>
    public double WeightBytesRead(long tokens)
    {
        var model = Deployment.Model;
        if (model.Experts == 0 || tokens <= 0)
        {
            return tokens <= 0 ? 0 : WeightBytes;
        }

        double e = model.Experts;
        double k = model.ExpertsPerToken;
        // total = shared + E x, active = shared + k x, so one expert (summed over layers) has x parameters.
        double expert = (model.TotalParameters - model.ActiveParameters) / (e - k);
        double shared = model.ActiveParameters - (k * expert);
        double touched = e * (1 - Math.Pow(1 - (k / e), tokens));
        return (shared + (expert * touched)) * Deployment.WeightBytesPerParameter;
    }
}
