using System.Text.Json;

namespace MockServe.Core.Calibration;

/// <summary>
/// Reads AIPerf's <c>profile_export_aiperf.json</c>. Each metric is an object with a <c>unit</c> and statistics
/// (<c>avg, p50, p90, ..., min, max, std</c>); recent versions put the metrics at the top level, earlier ones under
/// <c>records</c>. The run's settings are under <c>input_config</c> (<c>loadgen.concurrency</c>,
/// <c>loadgen.request_rate</c>). Time units are <c>ns, us, ms</c> and <c>sec</c> (earlier <c>s</c>).
/// </summary>
internal static class AiPerfReader
{
    private static readonly Dictionary<string, double> SecondsPerUnit = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ns"] = 1e-9,
        ["us"] = 1e-6,
        ["ms"] = 1e-3,
        ["s"] = 1,
        ["sec"] = 1,
    };

    public static bool Looks(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object
        && (IsMetric(root, "time_to_first_token")
            || (root.TryGetProperty("records", out var records) && IsMetric(records, "time_to_first_token")));

    private static bool IsMetric(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var metric)
        && metric.ValueKind == JsonValueKind.Object && metric.TryGetProperty("unit", out _);

    public static void Read(JsonElement root, MeasurementSink sink)
    {
        var json = new JsonFields(sink.File);
        var (metrics, path) = JsonFields.Has(root, "records") ? (root.GetProperty("records"), "$.records") : (root, "$");
        double? concurrency = null;
        double? rate = null;
        if (JsonFields.Has(root, "input_config") && JsonFields.Has(root.GetProperty("input_config"), "loadgen"))
        {
            var loadgen = root.GetProperty("input_config").GetProperty("loadgen");
            concurrency = json.OptionalNumber(loadgen, "concurrency", "$.input_config.loadgen");
            rate = json.OptionalNumber(loadgen, "request_rate", "$.input_config.loadgen");
        }

        sink.Add(new Measurement
        {
            Kind = MeasurementKind.Summary,
            Source = $"{sink.File}:{path}",
            Statistic = SummaryStatistic.Mean,
            TtftSeconds = json.Positive(Seconds(json, metrics, "time_to_first_token", path), $"{path}.time_to_first_token.avg"),
            ItlSeconds = json.NonNegative(Seconds(json, metrics, "inter_token_latency", path), $"{path}.inter_token_latency.avg"),
            PromptTokens = Tokens(json, metrics, "input_sequence_length", path),
            OutputTokens = Tokens(json, metrics, "output_sequence_length", path),
            Concurrency = concurrency is { } c ? json.Positive(c, "$.input_config.loadgen.concurrency") : null,
            RequestRate = rate is { } r ? json.Positive(r, "$.input_config.loadgen.request_rate") : null,
        });
    }

    private static double Seconds(JsonFields json, JsonElement metrics, string name, string path)
    {
        var metric = json.RequireObject(metrics, name, path);
        var unit = Unit(json, metric, $"{path}.{name}");
        if (!SecondsPerUnit.TryGetValue(unit, out var factor))
        {
            throw json.Error($"{path}.{name}.unit", $"unknown unit \"{unit}\"; known time units: {string.Join(", ", SecondsPerUnit.Keys)}");
        }

        return json.RequireNumber(metric, "avg", $"{path}.{name}") * factor;
    }

    private static long Tokens(JsonFields json, JsonElement metrics, string name, string path)
    {
        var metric = json.RequireObject(metrics, name, path);
        var unit = Unit(json, metric, $"{path}.{name}");
        if (!unit.Equals("tokens", StringComparison.OrdinalIgnoreCase))
        {
            throw json.Error($"{path}.{name}.unit", $"unknown unit \"{unit}\"; expected tokens");
        }

        var mean = json.NonNegative(json.RequireNumber(metric, "avg", $"{path}.{name}"), $"{path}.{name}.avg");
        return (long)Math.Round(mean, MidpointRounding.AwayFromZero);
    }

    private static string Unit(JsonFields json, JsonElement metric, string path)
    {
        var unit = json.Require(metric, "unit", path);
        return unit.ValueKind == JsonValueKind.String
            ? unit.GetString()!
            : throw json.Error($"{path}.unit", $"expected a string, got {JsonFields.Show(unit)}");
    }
}
