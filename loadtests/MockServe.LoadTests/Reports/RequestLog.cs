using System.Text.Json;
using System.Text.Json.Serialization;

using MockServe.LoadTests.Measurement;

using static MockServe.LoadTests.Reports.ReportFormat;

namespace MockServe.LoadTests.Reports;

/// <summary>
/// Writes <c>requests.jsonl</c>: one JSON object per request, with stable snake_case field names; moments are
/// milliseconds from the run's start, latencies milliseconds, and a field that does not apply is null.
/// </summary>
public static class RequestLog
{
    /// <summary>Writes one line per sample.</summary>
    public static void Write(TextWriter writer, IEnumerable<RequestSample> samples)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(samples);
        foreach (var sample in samples)
        {
            writer.WriteLine(ToJsonLine(sample));
        }
    }

    /// <summary>One sample as one line of JSON.</summary>
    public static string ToJsonLine(RequestSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var server = sample.Server;
        var line = new RequestLine(
            sample.Scenario,
            sample.RequestIndex,
            sample.Copy,
            sample.Turn,
            sample.SessionId,
            sample.Status,
            sample.Ok,
            sample.Error,
            MsValue(sample.IntendedStart),
            MsValue(sample.ActualStart),
            MsValue(sample.FirstTokenAt),
            MsValue(sample.LastTokenAt),
            MsValue(sample.End),
            MsValue(sample.ScheduleLateness),
            MsValue(sample.Ttft),
            MsValue(sample.TtftFromActual),
            MsValue(sample.E2e),
            MsValue(sample.Itl),
            MsValue(sample.WorstGap),
            sample.GapCount,
            sample.OutputTokens,
            sample.PromptTokens,
            sample.CachedTokens,
            sample.RecomputedTokens,
            sample.CacheState.Name(),
            MsValue(server?.Queue),
            MsValue(server?.SwapIn),
            MsValue(server?.Prefill),
            MsValue(server?.Decode),
            MsValue(server?.TimeToFirstToken),
            MsValue(server?.EndToEnd),
            server?.Preemptions,
            MsValue(sample.CustomLatency),
            sample.SizeBytes);
        return JsonSerializer.Serialize(line, RequestLogJsonContext.Default.RequestLine);
    }
}

/// <summary>The fields of a <c>requests.jsonl</c> line; their names are part of the file's contract.</summary>
internal sealed record RequestLine(
    [property: JsonPropertyName("scenario")] string Scenario,
    [property: JsonPropertyName("request_index")] long RequestIndex,
    [property: JsonPropertyName("copy")] int Copy,
    [property: JsonPropertyName("turn")] int Turn,
    [property: JsonPropertyName("session_id")] string? SessionId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("intended_start_ms")] double? IntendedStartMs,
    [property: JsonPropertyName("actual_start_ms")] double? ActualStartMs,
    [property: JsonPropertyName("first_token_ms")] double? FirstTokenMs,
    [property: JsonPropertyName("last_token_ms")] double? LastTokenMs,
    [property: JsonPropertyName("end_ms")] double? EndMs,
    [property: JsonPropertyName("lateness_ms")] double? LatenessMs,
    [property: JsonPropertyName("ttft_ms")] double? TtftMs,
    [property: JsonPropertyName("ttft_actual_ms")] double? TtftActualMs,
    [property: JsonPropertyName("e2e_ms")] double? E2eMs,
    [property: JsonPropertyName("itl_ms")] double? ItlMs,
    [property: JsonPropertyName("worst_gap_ms")] double? WorstGapMs,
    [property: JsonPropertyName("gaps")] int Gaps,
    [property: JsonPropertyName("output_tokens")] long OutputTokens,
    [property: JsonPropertyName("prompt_tokens")] long PromptTokens,
    [property: JsonPropertyName("cached_tokens")] long CachedTokens,
    [property: JsonPropertyName("recomputed_tokens")] long RecomputedTokens,
    [property: JsonPropertyName("cache_state")] string CacheState,
    [property: JsonPropertyName("server_queue_ms")] double? ServerQueueMs,
    [property: JsonPropertyName("server_swap_in_ms")] double? ServerSwapInMs,
    [property: JsonPropertyName("server_prefill_ms")] double? ServerPrefillMs,
    [property: JsonPropertyName("server_decode_ms")] double? ServerDecodeMs,
    [property: JsonPropertyName("server_ttft_ms")] double? ServerTtftMs,
    [property: JsonPropertyName("server_e2e_ms")] double? ServerE2eMs,
    [property: JsonPropertyName("server_preemptions")] int? ServerPreemptions,
    [property: JsonPropertyName("latency_ms")] double? LatencyMs,
    [property: JsonPropertyName("size_bytes")] long? SizeBytes);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(RequestLine))]
internal sealed partial class RequestLogJsonContext : JsonSerializerContext;
