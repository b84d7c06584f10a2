namespace MockServe.Tests.Shared;

/// <summary>
/// Yi-34B on one A100-80GB (the default profile), written out by hand from the model's config.json and NVIDIA's
/// datasheet, so tests check the program against arithmetic rather than against itself.
/// </summary>
internal static class YiOnA100
{
    public const double Params = 34.39e9;

    /// <summary>BF16 weights, read once per step.</summary>
    public const double WeightBytes = Params * 2;

    /// <summary>K and V x 60 layers x 8 KV heads x 128 head dim x 2 bytes.</summary>
    public const double KvPerToken = 2.0 * 60 * 8 * 128 * 2;

    /// <summary>QK^T and PV, 2 FLOPs per multiply-add, per layer and query head (56 heads of 128).</summary>
    public const double AttnPerPair = 2.0 * 60 * 56 * (128 + 128);

    public const double Flops = 312e12;
    public const double Bandwidth = 2.039e12;
    public const double Pcie = 32e9;
    public const double BlockBytes = 16 * KvPerToken;

    /// <summary>One step prefilling <paramref name="s"/> new tokens after <paramref name="c"/> cached ones.</summary>
    public static double Prefill(double s, double c) => Math.Max(
        ((2 * Params * s) + (AttnPerPair * ((s * c) + (s * (s + 1) / 2)))) / Flops,
        (WeightBytes + (KvPerToken * c)) / Bandwidth);

    /// <summary>One decode step of a single sequence whose KV holds <paramref name="context"/> tokens.</summary>
    public static double Decode(double context) => Math.Max(
        ((2 * Params) + (AttnPerPair * (context + 1))) / Flops,
        (WeightBytes + (KvPerToken * context)) / Bandwidth);

    /// <summary>
    /// Model times of the tokens of one request alone on the GPU: a prompt of <paramref name="prompt"/> tokens
    /// (at most one 2048-token step) prefilled at 0, then one decode step per token, each reading one more token of KV.
    /// </summary>
    public static double[] TokenTimes(long prompt, int tokens)
    {
        var times = new double[tokens];
        times[0] = Prefill(prompt, 0);
        for (int k = 1; k < tokens; k++)
        {
            times[k] = times[k - 1] + Decode(prompt + k - 1);
        }

        return times;
    }
}
