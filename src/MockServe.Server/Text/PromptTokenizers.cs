using Microsoft.ML.Tokenizers;

namespace MockServe.Server.Text;

/// <summary>A prompt's token count; a lower bound when counting stopped once it passed the limit it was given.</summary>
public readonly record struct PromptCount(long Tokens, bool IsLowerBound);

/// <summary>Counts the tokens of a text prompt.</summary>
public interface IPromptTokenizer
{
    string Name { get; }

    /// <summary>
    /// The tokens of <paramref name="text"/>, in time linear in its length. Counting may stop once the count passes
    /// <paramref name="limit"/>: no request can use more, and the rest of a huge prompt would only cost CPU.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while counting.</exception>
    PromptCount Count(string text, long limit, CancellationToken cancellationToken);

    /// <summary>
    /// The token ids of <paramref name="text"/>, cut into the same pieces <see cref="Count"/> counts, so that there are
    /// exactly as many; empty for a tokenizer without ids. Like counting, encoding may stop once there are more than
    /// <paramref name="limit"/>: the ids are then only the text's first ones.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while encoding.</exception>
    int[] Encode(string text, long limit, CancellationToken cancellationToken) => [];
}

public static class PromptTokenizers
{
    public static IPromptTokenizer Create(string name) => name switch
    {
        "o200k" => new TiktokenPromptTokenizer(),
        "approx" => new ApproximatePromptTokenizer(),
        _ => throw new ArgumentException($"Tokenizer: unknown tokenizer '{name}', expected o200k or approx", nameof(name)),
    };
}

/// <summary>OpenAI's o200k_base BPE (GPT-4o), from Microsoft.ML.Tokenizers with its bundled vocabulary.</summary>
internal sealed class TiktokenPromptTokenizer : IPromptTokenizer
{
    private readonly Lazy<Tokenizer> _tokenizer = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    public string Name => "o200k";

    public PromptCount Count(string text, long limit, CancellationToken cancellationToken)
    {
        var tokenizer = _tokenizer.Value;
        return PieceCounter.Count(text, limit, piece => tokenizer.CountTokens(piece), cancellationToken);
    }

    public int[] Encode(string text, long limit, CancellationToken cancellationToken)
    {
        var tokenizer = _tokenizer.Value;
        var ids = new List<int>();
        for (int start = 0, end; start < text.Length && ids.Count <= limit; start = end)
        {
            cancellationToken.ThrowIfCancellationRequested();
            end = PieceCounter.PieceEnd(text, start);
            ids.AddRange(tokenizer.EncodeToIds(text.AsSpan(start, end - start)));
        }

        return [.. ids];
    }
}

/// <summary>About 4 characters of English a token (OpenAI's rule of thumb): no vocabulary, constant time.</summary>
internal sealed class ApproximatePromptTokenizer : IPromptTokenizer
{
    public string Name => "approx";

    public PromptCount Count(string text, long limit, CancellationToken cancellationToken) => new((text.Length + 3L) / 4, IsLowerBound: false);

    /// <summary>
    /// One id per 4 characters, a hash of them: no vocabulary's ids, but equal text gives equal ids, which is all that
    /// prefix caching needs of a prompt. Text that only follows a prompt (an answer resent in a conversation) lines up
    /// with the prompt's 4-character grid only by chance, so only vocabulary tokenizers find resent answers cached.
    /// </summary>
    public int[] Encode(string text, long limit, CancellationToken cancellationToken)
    {
        long count = (text.Length + 3L) / 4;
        var ids = new int[count > limit ? limit + 1 : count];
        for (int i = 0; i < ids.Length; i++)
        {
            // FNV-1a, stable across processes (string.GetHashCode is not): one seed gives one run.
            uint hash = 2166136261;
            foreach (char c in text.AsSpan(4 * i, Math.Min(4, text.Length - (4 * i))))
            {
                hash = (hash ^ c) * 16777619;
            }

            ids[i] = (int)(hash & int.MaxValue);
        }

        return ids;
    }
}
