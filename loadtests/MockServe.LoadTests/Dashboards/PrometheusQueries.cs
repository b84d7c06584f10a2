using System.Globalization;
using System.Text.Json;

namespace MockServe.LoadTests.Dashboards;

/// <summary>One series of a range query: its labels (with <c>__name__</c> when Prometheus kept it) and its points.</summary>
public sealed record PromSeries(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<(DateTimeOffset At, double Value)> Points);

/// <summary>Prometheus answered a query with an error, or with something that is not its API's JSON.</summary>
public sealed class PrometheusQueryException(string message) : Exception(message);

/// <summary>
/// Prometheus's HTTP API <c>/api/v1/query_range</c>
/// (https://prometheus.io/docs/prometheus/latest/querying/api/#range-queries), the query a Grafana panel runs.
/// </summary>
public sealed class PrometheusQueries(HttpClient http, Uri baseAddress)
{
    private readonly Uri endpoint = new(EnsureSlash(baseAddress), "api/v1/query_range");

    /// <summary>Evaluates <paramref name="expr"/> from <paramref name="start"/> to <paramref name="end"/> every <paramref name="step"/>.</summary>
    /// <exception cref="PrometheusQueryException">Prometheus answered <c>"status": "error"</c> or not its JSON.</exception>
    /// <exception cref="HttpRequestException">Prometheus could not be reached.</exception>
    public async Task<IReadOnlyList<PromSeries>> QueryRangeAsync(string expr, DateTimeOffset start, DateTimeOffset end, TimeSpan step, CancellationToken ct)
    {
        // POSTed as a form: a long expression in a GET URL can outgrow a proxy's line limit; the API takes both.
        using var content = new FormUrlEncodedContent(
        [
            KeyValuePair.Create("query", expr),
            KeyValuePair.Create("start", Unix(start)),
            KeyValuePair.Create("end", Unix(end)),
            KeyValuePair.Create("step", step.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)),
        ]);
        using var response = await http.PostAsync(endpoint, content, ct);
        string body = await response.Content.ReadAsStringAsync(ct);
        return Parse(body, (int)response.StatusCode);
    }

    /// <summary>Reads a query_range answer: a <c>matrix</c> on success, <c>errorType</c> and <c>error</c> otherwise.</summary>
    public static IReadOnlyList<PromSeries> Parse(string body, int statusCode)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            string start = body.Length > 200 ? body[..200] + "..." : body;
            throw new PrometheusQueryException($"HTTP {statusCode}, not Prometheus API JSON: {start.Trim()}");
        }

        using (document)
        {
            var root = document.RootElement;
            string? status = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("status", out var s) ? s.GetString() : null;
            if (status != "success")
            {
                string type = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("errorType", out var t) ? t.GetString() ?? "" : "";
                string error = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var e) ? e.GetString() ?? "" : "";
                throw new PrometheusQueryException($"HTTP {statusCode}, {(type.Length > 0 ? type + ": " : "")}{(error.Length > 0 ? error : "status " + (status ?? "missing"))}");
            }

            if (!root.TryGetProperty("data", out var data) || !data.TryGetProperty("resultType", out var resultType) || !data.TryGetProperty("result", out var result)
                || result.ValueKind != JsonValueKind.Array)
            {
                throw new PrometheusQueryException($"HTTP {statusCode}, success without data.resultType and data.result");
            }

            if (resultType.GetString() != "matrix")
            {
                throw new PrometheusQueryException($"HTTP {statusCode}, a range query answered with resultType {resultType.GetString()}, not matrix");
            }

            var series = new List<PromSeries>();
            foreach (var item in result.EnumerateArray())
            {
                var labels = new Dictionary<string, string>(StringComparer.Ordinal);
                if (item.TryGetProperty("metric", out var metric) && metric.ValueKind == JsonValueKind.Object)
                {
                    foreach (var label in metric.EnumerateObject())
                    {
                        labels[label.Name] = label.Value.GetString() ?? "";
                    }
                }

                var points = new List<(DateTimeOffset, double)>();
                if (item.TryGetProperty("values", out var values) && values.ValueKind == JsonValueKind.Array)
                {
                    foreach (var pair in values.EnumerateArray())
                    {
                        // [ <unix seconds, a number>, "<value, a string: 1.5, NaN, +Inf, -Inf>" ]
                        double seconds = pair[0].GetDouble();
                        points.Add((DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000)), Value(pair[1].GetString())));
                    }
                }

                series.Add(new PromSeries(labels, points));
            }

            return series;
        }
    }

    private static double Value(string? text) => text switch
    {
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" or null => double.NaN,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static string Unix(DateTimeOffset at) => (at.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);

    private static Uri EnsureSlash(Uri address) => address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/");
}
