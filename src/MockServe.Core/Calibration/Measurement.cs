namespace MockServe.Core.Calibration;

/// <summary>What one <see cref="Measurement"/> describes.</summary>
public enum MeasurementKind
{
    /// <summary>One engine step (one forward pass): its batch, its KV context, its prefill tokens and its duration.</summary>
    Step,

    /// <summary>One request as a client saw it: prompt and output lengths, TTFT and mean inter-token latency.</summary>
    Request,

    /// <summary>A whole benchmark run reduced to one statistic (mean or median, see <see cref="Measurement.Statistic"/>).</summary>
    Summary,
}

/// <summary>Which statistic a <see cref="MeasurementKind.Summary"/> carries in its latency and token fields.</summary>
public enum SummaryStatistic
{
    /// <summary>Arithmetic mean over the successful requests of the run.</summary>
    Mean,

    /// <summary>Median (p50) over the successful requests of the run.</summary>
    Median,
}

/// <summary>
/// One measurement read from a benchmark file, in a form that does not depend on the tool that wrote it.
/// Times are always seconds, lengths always tokens. Fields that a kind does not use are null.
/// </summary>
public sealed record Measurement
{
    /// <summary>What this measurement describes; decides which fields are set.</summary>
    public required MeasurementKind Kind { get; init; }

    /// <summary>Where it came from: <c>file.csv:12</c> (file name and line) or <c>bench.json:$.ttfts[3]</c> (JSON path).</summary>
    public required string Source { get; init; }

    /// <summary>Step: sequences in the step (decoding and prefilling).</summary>
    public int? BatchSize { get; init; }

    /// <summary>Step: mean KV context, in tokens, of each decoding sequence in the step.</summary>
    public long? ContextTokens { get; init; }

    /// <summary>Step: prompt tokens prefilled in the step.</summary>
    public long? PrefillTokens { get; init; }

    /// <summary>Request: prompt tokens. Summary: the statistic of the prompt lengths, rounded to a whole token.</summary>
    public long? PromptTokens { get; init; }

    /// <summary>Request: output tokens. Summary: the statistic of the output lengths, rounded to a whole token.</summary>
    public long? OutputTokens { get; init; }

    /// <summary>Step: duration of the step, seconds.</summary>
    public double? StepSeconds { get; init; }

    /// <summary>Request / Summary: time to first token, seconds (issue to first streamed token).</summary>
    public double? TtftSeconds { get; init; }

    /// <summary>
    /// Request: mean inter-token latency of the request, seconds: (last token - first token) / (output tokens - 1),
    /// which vLLM calls TPOT; null when the request had one output token. Summary: the statistic of those values.
    /// </summary>
    public double? ItlSeconds { get; init; }

    /// <summary>Requests in flight when measured (the tool's concurrency limit, or its measured mean), if known.</summary>
    public double? Concurrency { get; init; }

    /// <summary>Offered request rate, requests per second, when the run was open-loop at a finite rate; otherwise null.</summary>
    public double? RequestRate { get; init; }

    /// <summary>Summary: which statistic <see cref="PromptTokens"/>, <see cref="OutputTokens"/>, <see cref="TtftSeconds"/> and <see cref="ItlSeconds"/> hold; null for other kinds.</summary>
    public SummaryStatistic? Statistic { get; init; }
}

/// <summary>What <see cref="MeasurementReader.Read(string)"/> found in one file.</summary>
/// <param name="Path">The file as given.</param>
/// <param name="Format">The detected format, one of the <see cref="MeasurementFormats"/> names.</param>
/// <param name="Measurements">The measurements, in file order.</param>
/// <param name="Skipped">Records left out because the tool marked them failed or they produced no output tokens.</param>
public sealed record MeasurementSet(string Path, string Format, IReadOnlyList<Measurement> Measurements, int Skipped);

/// <summary>The names of the formats <see cref="MeasurementReader"/> detects.</summary>
public static class MeasurementFormats
{
    /// <summary>Our CSV of engine steps: <c>batch_size, context_tokens, prefill_tokens, step_ms|step_seconds</c>.</summary>
    public const string StepsCsv = "steps-csv";

    /// <summary>Our CSV of requests: <c>prompt_tokens, output_tokens, ttft_ms|ttft_seconds, itl_ms|itl_seconds[, concurrency]</c>.</summary>
    public const string RequestsCsv = "requests-csv";

    /// <summary>Our JSON Lines of engine steps, same columns as <see cref="StepsCsv"/>.</summary>
    public const string StepsJsonl = "steps-jsonl";

    /// <summary>Our JSON Lines of requests, same columns as <see cref="RequestsCsv"/>.</summary>
    public const string RequestsJsonl = "requests-jsonl";

    /// <summary><c>vllm bench serve --save-result</c> (or <c>benchmarks/benchmark_serving.py</c>) JSON; one result per line with <c>--append-result</c>.</summary>
    public const string VllmBench = "vllm-bench";

    /// <summary>AIPerf <c>profile_export_aiperf.json</c>.</summary>
    public const string AiPerf = "aiperf";

    /// <summary>guidellm <c>benchmarks.json</c>.</summary>
    public const string GuideLlm = "guidellm";
}
