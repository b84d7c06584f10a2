using System.Text.Json;

namespace MockServe.Core.Calibration;

/// <summary>
/// Reads the result JSON of <c>vllm bench serve --save-result</c> (vllm/benchmarks/serve.py; also the older
/// benchmarks/benchmark_serving.py). Top level: <c>backend, model_id, num_prompts, request_rate</c> (a number or
/// "inf"), <c>max_concurrency</c> (null when unlimited), <c>completed, total_input_tokens, total_output_tokens,
/// mean_ttft_ms, median_ttft_ms, mean_tpot_ms, mean_itl_ms</c>, ... With <c>--save-detailed</c> it keeps per-request
/// lists: <c>input_lens, output_lens</c> (tokens), <c>ttfts</c> (seconds), <c>itls</c> (a list of inter-chunk gaps
/// per request, seconds) and <c>errors</c> ("" when the request succeeded).
/// </summary>
internal static class VllmBenchReader
{
    public static bool Looks(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("completed", out _)
        && (root.TryGetProperty("mean_ttft_ms", out _) || root.TryGetProperty("ttfts", out _));

    /// <summary>Reads one result object; <paramref name="location"/> is the file, or file:line for appended results.</summary>
    public static void Read(JsonElement root, string location, MeasurementSink sink)
    {
        var json = new JsonFields(location);
        double? concurrency = JsonFields.Has(root, "max_concurrency")
            ? json.Positive(json.RequireNumber(root, "max_concurrency", "$"), "$.max_concurrency")
            : null;
        double? rate = root.TryGetProperty("request_rate", out var r) && r.ValueKind == JsonValueKind.Number
            ? json.Positive(json.Number(r, "$.request_rate"), "$.request_rate")
            : null; // "inf" (all at once) or absent: no finite offered rate

        if (JsonFields.Has(root, "ttfts"))
        {
            ReadDetailed(root, json, concurrency, rate, sink);
            return;
        }

        var completed = json.WholeTokens(json.RequireNumber(root, "completed", "$"), "$.completed");
        if (completed == 0)
        {
            throw json.Error("$.completed", "0 requests completed: nothing to calibrate from");
        }

        sink.Add(new Measurement
        {
            Kind = MeasurementKind.Summary,
            Source = $"{location}:$",
            Statistic = SummaryStatistic.Mean,
            PromptTokens = (long)Math.Round(json.WholeTokens(json.RequireNumber(root, "total_input_tokens", "$"), "$.total_input_tokens") / (double)completed, MidpointRounding.AwayFromZero),
            OutputTokens = (long)Math.Round(json.WholeTokens(json.RequireNumber(root, "total_output_tokens", "$"), "$.total_output_tokens") / (double)completed, MidpointRounding.AwayFromZero),
            TtftSeconds = json.Positive(json.RequireNumber(root, "mean_ttft_ms", "$"), "$.mean_ttft_ms") / 1000.0,
            // TPOT, not mean_itl_ms: vLLM's TPOT is the per-request (E2E - TTFT) / (OSL - 1), our ITL definition;
            // its ITL is the mean of pooled inter-chunk gaps.
            ItlSeconds = json.NonNegative(json.RequireNumber(root, "mean_tpot_ms", "$"), "$.mean_tpot_ms") / 1000.0,
            Concurrency = concurrency,
            RequestRate = rate,
        });
    }

    private static void ReadDetailed(JsonElement root, JsonFields json, double? concurrency, double? rate, MeasurementSink sink)
    {
        var inputs = json.RequireArray(root, "input_lens", "$");
        var outputs = json.RequireArray(root, "output_lens", "$");
        var ttfts = json.RequireArray(root, "ttfts", "$");
        var itls = json.RequireArray(root, "itls", "$");
        var errors = JsonFields.Has(root, "errors") ? json.RequireArray(root, "errors", "$") : default;
        var count = ttfts.GetArrayLength();
        foreach (var (name, list) in new[] { ("input_lens", inputs), ("output_lens", outputs), ("itls", itls) })
        {
            if (list.GetArrayLength() != count)
            {
                throw json.Error($"$.{name}", $"has {list.GetArrayLength()} entries but $.ttfts has {count}");
            }
        }

        for (var i = 0; i < count; i++)
        {
            if (errors.ValueKind == JsonValueKind.Array && i < errors.GetArrayLength()
                && errors[i].ValueKind == JsonValueKind.String && errors[i].GetString() is { Length: > 0 })
            {
                sink.Skip();
                continue;
            }

            var output = json.WholeTokens(json.Number(outputs[i], $"$.output_lens[{i}]"), $"$.output_lens[{i}]");
            if (output == 0)
            {
                sink.Skip();
                continue;
            }

            var gaps = itls[i];
            if (gaps.ValueKind != JsonValueKind.Array)
            {
                throw json.Error($"$.itls[{i}]", $"expected a list of seconds, got {JsonFields.Show(gaps)}");
            }

            // The gaps add up to last token minus first token whatever the chunking, so their sum over
            // (output - 1) is the request's mean inter-token latency.
            var sum = 0.0;
            var j = 0;
            foreach (var gap in gaps.EnumerateArray())
            {
                sum += json.NonNegative(json.Number(gap, $"$.itls[{i}][{j}]"), $"$.itls[{i}][{j}]");
                j++;
            }

            sink.Add(new Measurement
            {
                Kind = MeasurementKind.Request,
                Source = $"{json.Location}:$.ttfts[{i}]",
                PromptTokens = json.WholeTokens(json.Number(inputs[i], $"$.input_lens[{i}]"), $"$.input_lens[{i}]"),
                OutputTokens = output,
                TtftSeconds = json.Positive(json.Number(ttfts[i], $"$.ttfts[{i}]"), $"$.ttfts[{i}]"),
                ItlSeconds = output > 1 ? sum / (output - 1) : null,
                Concurrency = concurrency,
                RequestRate = rate,
            });
        }
    }
}
