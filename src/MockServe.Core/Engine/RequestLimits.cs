using MockServe.Core.Profiles;

namespace MockServe.Core.Engine;

/// <summary>A request field that breaks a limit: <c>max_tokens: must be between 1 and ..., got 0</c>.</summary>
public readonly record struct FieldError(string Field, string Problem)
{
    public override string ToString() => $"{Field}: {Problem}";
}

/// <summary>
/// The limits every request meets, whichever front end sends it: the model's context and the HBM left for KV.
/// The engine checks them once, at submission; the estimate front ends share <see cref="CheckEstimate"/>.
/// Fields are named as in the mockserve.v1 API (<c>prompt_tokens</c>, <c>max_tokens</c>); a front end that
/// calls them otherwise renames the field, never the rule.
/// </summary>
public sealed class RequestLimits
{
    public const string PromptTokens = "prompt_tokens";
    public const string MaxTokens = "max_tokens";
    public const string ContextTokens = "context_tokens";
    public const string DecodeTokens = "decode_tokens";

    private readonly KvCacheManager _kv;

    internal RequestLimits(long maxContext, KvCacheManager kv, double tokensKept, int blockSize)
    {
        MaxContext = maxContext;
        _kv = kv;
        HbmCapacityTokens = (long)Math.Floor(kv.Hbm.Total * blockSize / tokensKept);
    }

    /// <summary>The model's context: prompt plus output never exceeds it.</summary>
    public long MaxContext { get; }

    /// <summary>Tokens of KV the HBM pool holds when full (token compression applied).</summary>
    public long HbmCapacityTokens { get; }

    /// <summary>The first limit of the API and the model the request breaks, or null when it meets them all.</summary>
    public FieldError? Check(long promptTokens, long maxTokens, long? stopAfterTokens = null)
    {
        if (promptTokens < 1 || promptTokens > MaxContext)
        {
            return new(PromptTokens, $"{promptTokens} tokens, must be between 1 and the model's context of {MaxContext} tokens");
        }

        if (maxTokens < 1 || maxTokens > MaxContext)
        {
            return new(MaxTokens, $"must be between 1 and the model's context of {MaxContext} tokens, got {maxTokens}");
        }

        if (stopAfterTokens is < 1)
        {
            return new("stop_after_tokens", $"must be at least 1, got {stopAfterTokens}");
        }

        long total = promptTokens + maxTokens;
        if (total > MaxContext)
        {
            return new($"{PromptTokens} + {MaxTokens}", $"{promptTokens} + {maxTokens} = {total} exceeds the model's context of {MaxContext} tokens");
        }

        return null;
    }

    /// <summary>Null when the request's KV (prompt plus every output token) fits in HBM left after the weights.</summary>
    public FieldError? CheckCapacity(long promptTokens, long maxTokens)
    {
        long total = promptTokens + maxTokens;
        return _kv.BlocksFor(total) > _kv.Hbm.Total
            ? new($"{PromptTokens} + {MaxTokens}", $"{total} tokens need more KV than the HBM left after weights holds ({HbmCapacityTokens} tokens)")
            : null;
    }

    /// <summary>
    /// The limits of a cost estimate: a context the model can hold, and a decode count the decode loop prices
    /// token by token (so an unbounded count would hang the caller).
    /// </summary>
    public static FieldError? CheckEstimate(ModelProfile model, long contextTokens, long decodeTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (contextTokens < 1 || contextTokens > model.MaxContext)
        {
            return new(ContextTokens, $"must be between 1 and {model.Id}'s context of {model.MaxContext} tokens, got {contextTokens}");
        }

        if (decodeTokens < 1 || decodeTokens > model.MaxContext)
        {
            return new(DecodeTokens, $"must be between 1 and {model.Id}'s context of {model.MaxContext} tokens, got {decodeTokens}");
        }

        return null;
    }
}
