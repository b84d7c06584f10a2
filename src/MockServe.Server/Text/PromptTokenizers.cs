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
    /// exactly as many; empty for a tokenizer without a vocabulary.
    /// </summary>
    IReadOnlyList<int> Encode(string text, CancellationToken cancellationToken) => [];
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

    public IReadOnlyList<int> Encode(string text, CancellationToken cancellationToken)
    {
        var tokenizer = _tokenizer.Value;
        var ids = new List<int>();
        for (int start = 0, end; start < text.Length; start = end)
        {
            cancellationToken.ThrowIfCancellationRequested();
            end = PieceCounter.PieceEnd(text, start);
            ids.AddRange(tokenizer.EncodeToIds(text.AsSpan(start, end - start)));
        }

        return ids;
    }
}

/// <summary>About 4 characters of English a token (OpenAI's rule of thumb): no vocabulary, constant time.</summary>
internal sealed class ApproximatePromptTokenizer : IPromptTokenizer
{
    public string Name => "approx";

    public PromptCount Count(string text, long limit, CancellationToken cancellationToken) => new((text.Length + 3L) / 4, IsLowerBound: false);
}
