using System.Text.Json;

namespace MockServe.Core.Calibration;

/// <summary>
/// Reads guidellm's <c>benchmarks.json</c> (GenerativeBenchmarksReport: <c>args</c> and a list <c>benchmarks</c>).
/// Each benchmark has <c>metrics</c> whose entries (<c>time_to_first_token_ms, inter_token_latency_ms,
/// prompt_token_count, output_token_count, request_concurrency</c>) are split by status (<c>successful,
/// incomplete, errored, total</c>), each with <c>mean, median, ...</c>; and usually a sample of per-request
/// records under <c>requests.successful</c> with <c>prompt_tokens, output_tokens, time_to_first_token_ms,
/// inter_token_latency_ms</c> (older versions also <c>start_time, first_token_time, last_token_time</c>, seconds
/// since the epoch). guidellm's <c>inter_token_latency_ms</c> is (last token - first token) / (output - 1),
/// the same definition as ours.
/// </summary>
internal static class GuideLlmReader
{
    public static bool Looks(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("benchmarks", out var list) && list.ValueKind == JsonValueKind.Array;

    public static void Read(JsonElement root, MeasurementSink sink)
    {
        var json = new JsonFields(sink.File);
        var k = 0;
        foreach (var benchmark in root.GetProperty("benchmarks").EnumerateArray())
        {
            var path = $"$.benchmarks[{k++}]";
            var metrics = json.RequireObject(benchmark, "metrics", path);
            var concurrency = SuccessfulMean(json, metrics, "request_concurrency", $"{path}.metrics", required: false);
            var requests = JsonFields.Has(benchmark, "requests") && JsonFields.Has(benchmark.GetProperty("requests"), "successful")
                ? json.RequireArray(benchmark.GetProperty("requests"), "successful", $"{path}.requests")
                : default;
            if (requests.ValueKind == JsonValueKind.Array && requests.GetArrayLength() > 0)
            {
                ReadRequests(json, requests, $"{path}.requests.successful", concurrency, sink);
                continue;
            }

            var metricsPath = $"{path}.metrics";
            sink.Add(new Measurement
            {
                Kind = MeasurementKind.Summary,
                Source = $"{sink.File}:{path}",
                Statistic = SummaryStatistic.Mean,
                TtftSeconds = json.Positive(SuccessfulMean(json, metrics, "time_to_first_token_ms", metricsPath, required: true)!.Value, $"{metricsPath}.time_to_first_token_ms.successful.mean") / 1000.0,
                ItlSeconds = json.NonNegative(SuccessfulMean(json, metrics, "inter_token_latency_ms", metricsPath, required: true)!.Value, $"{metricsPath}.inter_token_latency_ms.successful.mean") / 1000.0,
                PromptTokens = (long)Math.Round(SuccessfulMean(json, metrics, "prompt_token_count", metricsPath, required: true)!.Value, MidpointRounding.AwayFromZero),
                OutputTokens = (long)Math.Round(SuccessfulMean(json, metrics, "output_token_count", metricsPath, required: true)!.Value, MidpointRounding.AwayFromZero),
                Concurrency = concurrency,
            });
        }
    }

    private static void ReadRequests(JsonFields json, JsonElement requests, string listPath, double? concurrency, MeasurementSink sink)
    {
        var j = 0;
        foreach (var request in requests.EnumerateArray())
        {
            var path = $"{listPath}[{j++}]";
            var output = json.OptionalNumber(request, "output_tokens", path);
            if (output is null or 0)
            {
                sink.Skip();
                continue;
            }

            var outputTokens = json.WholeTokens(output.Value, $"{path}.output_tokens");
            var ttftMs = json.OptionalNumber(request, "time_to_first_token_ms", path);
            var ttft = ttftMs is { } ms
                ? ms / 1000.0
                : json.RequireNumber(request, "first_token_time", path) - json.RequireNumber(request, "start_time", path);
            var itlMs = json.OptionalNumber(request, "inter_token_latency_ms", path);
            double? itl = itlMs is { } ims ? ims / 1000.0
                : outputTokens > 1 && JsonFields.Has(request, "last_token_time") && JsonFields.Has(request, "first_token_time")
                    ? (json.RequireNumber(request, "last_token_time", path) - json.RequireNumber(request, "first_token_time", path)) / (outputTokens - 1)
                    : null;
            sink.Add(new Measurement
            {
                Kind = MeasurementKind.Request,
                Source = $"{sink.File}:{path}",
                PromptTokens = json.WholeTokens(json.RequireNumber(request, "prompt_tokens", path), $"{path}.prompt_tokens"),
                OutputTokens = outputTokens,
                TtftSeconds = json.Positive(ttft, ttftMs is null ? $"{path}.first_token_time" : $"{path}.time_to_first_token_ms"),
                ItlSeconds = itl is { } v ? json.NonNegative(v, $"{path}.inter_token_latency_ms") : null,
                Concurrency = concurrency,
            });
        }
    }

    private static double? SuccessfulMean(JsonFields json, JsonElement metrics, string name, string path, bool required)
    {
        if (!required && !JsonFields.Has(metrics, name))
        {
            return null;
        }

        var byStatus = json.RequireObject(metrics, name, path);
        var successful = json.RequireObject(byStatus, "successful", $"{path}.{name}");
        return json.RequireNumber(successful, "mean", $"{path}.{name}.successful");
    }
}
