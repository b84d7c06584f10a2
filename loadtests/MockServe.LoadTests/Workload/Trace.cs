using System.Text.Json;

using MockServe.Contracts.V1;

namespace MockServe.LoadTests.Workload;

/// <summary>One request of a replayed trace.</summary>
/// <param name="Offset">When to start it, from the start of the replay (the trace's time times the scale).</param>
/// <param name="SessionId">The trace's session id; empty for a one-off request.</param>
/// <param name="PromptTokens">The whole prompt, as the trace gives it.</param>
/// <param name="OutputTokens">Output tokens to ask for (max_tokens).</param>
/// <param name="Line">The line of the trace file it came from.</param>
/// <param name="LastOfSession">No later request of the trace has this session: close it after this one.</param>
public sealed record TraceRequest(TimeSpan Offset, string SessionId, long PromptTokens, long OutputTokens, int Line, bool LastOfSession)
{
    /// <summary>The mockserve.v1 request for this trace entry.</summary>
    public GenerateRequest ToRequest(string requestId, bool ignoreEos) =>
        Requests.Generate(requestId, SessionId, PromptTokens, null, OutputTokens, ignoreEos);
}

/// <summary>
/// A request trace to replay: a JSONL file, one
/// <c>{"time": SECONDS, "session": "ID", "prompt_tokens": N, "output_tokens": M}</c> object a line, times
/// relative to the trace's start, in any order (replayed sorted by time, ties in file order). Blank lines are
/// skipped, other fields ignored; <c>session</c> may be left out for one-off requests.
/// </summary>
public sealed class Trace
{
    private const int MaxErrorsShown = 10;

    private Trace(IReadOnlyList<TraceRequest> requests) => Requests = requests;

    /// <summary>The requests in start order; their offsets are the arrival schedule.</summary>
    public IReadOnlyList<TraceRequest> Requests { get; }

    /// <summary>The last request's offset.</summary>
    public TimeSpan Duration => Requests.Count == 0 ? TimeSpan.Zero : Requests[^1].Offset;

    /// <summary>Reads and parses the file at <paramref name="path"/>; see <see cref="Parse"/>.</summary>
    public static Trace Load(string path, double timeScale = 1.0) => Parse(File.ReadLines(path), timeScale, path);

    /// <summary>
    /// Parses trace lines. <paramref name="timeScale"/> multiplies every time, as the server's time scale does
    /// (0.5 replays twice as fast). Throws <see cref="FormatException"/> listing the bad lines (the first ten), each
    /// with its number, field and value.
    /// </summary>
    public static Trace Parse(IEnumerable<string> lines, double timeScale = 1.0, string source = "trace")
    {
        ArgumentNullException.ThrowIfNull(lines);
        if (!double.IsFinite(timeScale) || timeScale <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(timeScale), timeScale, "The trace time scale must be a finite number above 0.");
        }

        var entries = new List<(double Time, string Session, long Prompt, long Output, int Line)>();
        var errors = new List<string>();
        int number = 0;
        foreach (string line in lines)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string? error = ParseLine(line, out var entry);
            if (error is null)
            {
                entries.Add((entry.Time, entry.Session, entry.Prompt, entry.Output, number));
            }
            else
            {
                errors.Add($"{source} line {number}: {error}");
            }
        }

        if (errors.Count > 0)
        {
            string more = errors.Count > MaxErrorsShown ? $"{Environment.NewLine}... and {errors.Count - MaxErrorsShown} more bad lines" : "";
            throw new FormatException(string.Join(Environment.NewLine, errors.Take(MaxErrorsShown)) + more);
        }

        var sorted = entries.OrderBy(e => e.Time).ToList();
        var lastIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < sorted.Count; i++)
        {
            lastIndex[sorted[i].Session] = i;
        }

        var requests = sorted
            .Select((e, i) => new TraceRequest(
                TimeSpan.FromSeconds(e.Time * timeScale),
                e.Session,
                e.Prompt,
                e.Output,
                e.Line,
                e.Session.Length > 0 && lastIndex[e.Session] == i))
            .ToList();
        return new Trace(requests);
    }

    private static string? ParseLine(string line, out (double Time, string Session, long Prompt, long Output) entry)
    {
        entry = default;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            return $"not valid JSON ({e.Message})";
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return $"not a JSON object but {root.ValueKind.ToString().ToLowerInvariant()}";
            }

            if (!root.TryGetProperty("time", out var time))
            {
                return "\"time\" is missing";
            }

            if (time.ValueKind != JsonValueKind.Number || !time.TryGetDouble(out double seconds) || !double.IsFinite(seconds) || seconds < 0)
            {
                return $"\"time\" is {time.GetRawText()}; it must be a number of seconds of at least 0";
            }

            string session = "";
            if (root.TryGetProperty("session", out var sessionElement) && sessionElement.ValueKind != JsonValueKind.Null)
            {
                if (sessionElement.ValueKind != JsonValueKind.String)
                {
                    return $"\"session\" is {sessionElement.GetRawText()}; it must be a string";
                }

                session = sessionElement.GetString()!;
            }

            if (Tokens(root, "prompt_tokens", out long prompt) is { } promptError)
            {
                return promptError;
            }

            if (Tokens(root, "output_tokens", out long output) is { } outputError)
            {
                return outputError;
            }

            entry = (seconds, session, prompt, output);
            return null;
        }
    }

    private static string? Tokens(JsonElement root, string name, out long tokens)
    {
        tokens = 0;
        if (!root.TryGetProperty(name, out var element))
        {
            return $"\"{name}\" is missing";
        }

        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out tokens) && tokens >= 1
            ? null
            : $"\"{name}\" is {element.GetRawText()}; it must be a whole number of at least 1";
    }
}
