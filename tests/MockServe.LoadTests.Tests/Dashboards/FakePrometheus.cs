using System.Net;

namespace MockServe.LoadTests.Tests.Dashboards;

/// <summary>
/// A Prometheus query_range endpoint in memory: answers each POSTed form by the first rule whose text the query
/// contains, an empty matrix when none does, and keeps every request's path and form for the test to read.
/// </summary>
internal sealed class FakePrometheus : HttpMessageHandler
{
    private readonly List<(string Contains, HttpStatusCode Status, string Body)> rules = [];

    public List<(string Path, Dictionary<string, string> Form)> Requests { get; } = [];

    public FakePrometheus Answer(string queryContains, string body, HttpStatusCode status = HttpStatusCode.OK)
    {
        rules.Add((queryContains, status, body));
        return this;
    }

    /// <summary>A success with a matrix: each series its labels and (unix seconds, value) pairs.</summary>
    public static string Matrix(params (string Labels, (double At, string Value)[] Points)[] series) =>
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
        + string.Join(',', series.Select(s => $"{{\"metric\":{s.Labels},\"values\":[{string.Join(',', s.Points.Select(p => $"[{p.At.ToString(System.Globalization.CultureInfo.InvariantCulture)},\"{p.Value}\"]"))}]}}"))
        + "]}}";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        var form = body.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => WebUtility.UrlDecode(p[0]), p => WebUtility.UrlDecode(p.Length > 1 ? p[1] : ""), StringComparer.Ordinal);
        Requests.Add((request.RequestUri!.AbsolutePath, form));
        string query = form.GetValueOrDefault("query", "");
        int rule = rules.FindIndex(r => query.Contains(r.Contains, StringComparison.Ordinal));
        var (status, answer) = rule < 0 ? (HttpStatusCode.OK, Matrix()) : (rules[rule].Status, rules[rule].Body);
        return new HttpResponseMessage(status) { Content = new StringContent(answer, System.Text.Encoding.UTF8, "application/json") };
    }
}
