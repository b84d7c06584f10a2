using System.Collections.Concurrent;

using MockServe.Core.Engine;

namespace MockServe.Server.Text;

/// <summary>
/// What automatic prefix caching knows of one text prompt: the hashes of its full blocks, chained over the server
/// tokenizer's ids, and how to extend them over the answer once the request ends, so that a client that resends the
/// conversation (as every OpenAI client does) finds its history cached up to the new message.
/// </summary>
internal sealed class PromptPrefix
{
    // The prompt's ids after its last full block: all that extending the chain needs (a long prompt's ids are not kept).
    private readonly int[] _promptTail;
    private readonly int _blockSize;
    private readonly TokenText.Stream _answer;
    private readonly WordIds _words;

    /// <param name="answer">The request's text stream before its first token: a copy is read, it is not consumed.</param>
    public PromptPrefix(int[] promptIds, int blockSize, TokenText.Stream answer, WordIds words)
    {
        _blockSize = blockSize;
        _answer = answer.Copy();
        _words = words;
        Hashes = PrefixHashes.Chain(promptIds, blockSize);
        _promptTail = promptIds[(Hashes.Length * blockSize)..];
    }

    public ulong[] Hashes { get; }

    /// <summary>
    /// The hashes of the prompt followed by the first <paramref name="generated"/> tokens of the answer, as the server
    /// tokenizer reads the answer's text when it is resent (the pseudo-text's words are looked up once each).
    /// </summary>
    public IReadOnlyList<ulong> WithOutput(long generated)
    {
        var tail = new List<int>(_promptTail);
        // The engine computed the KV of the prompt and all but the last generated token: ids past those are not needed,
        // and a long echoed word is encoded only as far as that.
        long needed = tail.Count + generated;
        var answer = _answer.Copy();
        for (long i = 0; i < generated && tail.Count < needed; i++)
        {
            tail.AddRange(_words.Of(answer.NextWord(), needed - tail.Count));
        }

        return PrefixHashes.Extend(Hashes, tail.ToArray(), _blockSize);
    }
}

/// <summary>The tokenizer's ids of single words of pseudo-text, each encoded once: the generated vocabulary is small.</summary>
internal sealed class WordIds(IPromptTokenizer tokenizer)
{
    // Echoed words come from prompts, so the memo is bounded, in words and in their length; others are encoded each time.
    private const int MaxWords = 4096;
    private const int MaxWordLength = 64;

    private readonly ConcurrentDictionary<string, int[]> _ids = new(StringComparer.Ordinal);

    /// <summary>The ids of <paramref name="word"/>; of a long one, possibly only the first ones past <paramref name="limit"/>.</summary>
    public int[] Of(string word, long limit) =>
        _ids.TryGetValue(word, out var ids) ? ids
        : word.Length <= MaxWordLength && _ids.Count < MaxWords ? _ids.GetOrAdd(word, w => tokenizer.Encode(w, long.MaxValue, CancellationToken.None))
        : tokenizer.Encode(word, limit, CancellationToken.None);
}
