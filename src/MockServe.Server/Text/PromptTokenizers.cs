using Microsoft.ML.Tokenizers;

namespace MockServe.Server.Text;

/// <summary>Counts the tokens of a text prompt.</summary>
public interface IPromptTokenizer
{
    string Name { get; }

    long Count(string text);
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

    public long Count(string text) => text.Length == 0 ? 0 : _tokenizer.Value.CountTokens(text);
}

/// <summary>About 4 characters of English a token (OpenAI's rule of thumb): no vocabulary, constant time.</summary>
internal sealed class ApproximatePromptTokenizer : IPromptTokenizer
{
    public string Name => "approx";

    public long Count(string text) => (text.Length + 3) / 4;
}
