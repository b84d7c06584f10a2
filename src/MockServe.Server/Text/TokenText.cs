using System.Globalization;
using System.Text;

namespace MockServe.Server.Text;

/// <summary>
/// Deterministic pseudo-text for generated tokens. Each request draws from its own stream, seeded by the server
/// seed and the request id, so its text does not depend on what else runs: the same seed and id give the same text.
/// </summary>
public sealed class TokenText(int seed, bool echo)
{
    // Ids of the words are offset so they look like a real vocabulary's ids rather than small integers.
    private const long IdOffset = 1000;

    private static readonly string[] Words =
    [
        " the", " of", " and", " to", " a", " in", " is", " that", " for", " it", " as", " with", " was", " on",
        " be", " by", " this", " are", " from", " at", " or", " an", " which", " not", " have", " model", " token",
        " cache", " memory", " request", " server", " latency", " stream", " batch", " context", " session",
        " prefill", " decode", " bandwidth", " compute", " layer", " head", " kernel", " queue", " time", " user",
        " answer", " question", " data", " value", " result", " system", " more", " each", " one", " two", " when",
        " then", " also", " can", " will", " all", " but", " so", ".", ",", " because", " however", " GPU", " HBM",
    ];

    private long _anonymous;

    /// <summary>A generator for one request; <paramref name="prompt"/> feeds echo mode.</summary>
    public Stream For(string requestId, string? prompt) => new(Mix(seed, requestId), echo ? SplitWords(prompt) : null);

    /// <summary>
    /// A generator for a request that came without an id. Server-assigned ids are random (nobody may guess them), so
    /// the n-th such request since start draws the stream of id "ms-n" instead: one seed still gives one run's text.
    /// </summary>
    public Stream ForAnonymous(string? prompt) =>
        For(string.Create(CultureInfo.InvariantCulture, $"ms-{Interlocked.Increment(ref _anonymous)}"), prompt);

    private static ulong Mix(int seed, string requestId)
    {
        // FNV-1a over the id: stable across processes, unlike string.GetHashCode.
        ulong hash = 14695981039346656037UL ^ (uint)seed;
        foreach (char c in requestId)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    private static string[]? SplitWords(string? prompt)
    {
        if (string.IsNullOrWhiteSpace(prompt))
        {
            return null;
        }

        var words = prompt.Split((char[]?)null, 4096, StringSplitOptions.RemoveEmptyEntries);
        return words.Select(w => " " + w).ToArray();
    }

    /// <summary>One request's tokens, in order.</summary>
    public sealed class Stream(ulong state, string[]? echoWords)
    {
        private ulong _state = state;
        private long _index;

        /// <summary>A stream that goes on from here as this one will: the same tokens, read without taking them from it.</summary>
        public Stream Copy() => new(_state, echoWords) { _index = _index };

        /// <summary>The text of the next token, without its id.</summary>
        public string NextWord() => Take().Word;

        /// <summary>Appends the next token's text and returns its id.</summary>
        public long Next(StringBuilder text)
        {
            var (word, id) = Take();
            text.Append(word);
            return id;
        }

        private (string Word, long Id) Take()
        {
            long index = _index++;
            if (echoWords is not null)
            {
                long i = index % echoWords.Length;
                return (echoWords[i], IdOffset + Words.Length + i);
            }

            int word = (int)(NextRandom() % (ulong)Words.Length);
            return (Words[word], IdOffset + word);
        }

        /// <summary>A uniform draw in [min, max], from the same stream (the modelled end-of-sequence).</summary>
        public long Between(long min, long max) => min + (long)(NextRandom() % (ulong)(max - min + 1));

        // SplitMix64 (Steele, Lea and Flood 2014): small, fast and well mixed.
        private ulong NextRandom()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
