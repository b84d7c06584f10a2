using System.CommandLine;
using System.Globalization;

using MockServe.Server.Configuration;

namespace MockServe.LoadTests.Dashboards;

/// <summary>What <c>mockserve-load dashboard</c> was asked for, as typed.</summary>
public sealed record DashboardRequest(
    string Prometheus,
    string Dashboard,
    string Out,
    string From = "now-15m",
    string To = "now",
    string? Step = null,
    string ScrapeInterval = "15s",
    IReadOnlyList<string>? Variables = null,
    bool RequireData = false);

/// <summary><c>mockserve-load dashboard</c>: draws a Grafana dashboard from a Prometheus into one HTML file and a PNG per panel.</summary>
public static class DashboardCommand
{
    // Prometheus refuses a range query of more than 11,000 points a series.
    private const int MaxPoints = 11_000;
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        var prometheus = new Option<string>("--prometheus") { Description = "Prometheus's address, e.g. http://127.0.0.1:9090.", Required = true };
        var dashboard = new Option<string>("--dashboard") { Description = "A Grafana dashboard JSON, e.g. grafana/dashboards/mockserve.json.", Required = true };
        var outDir = new Option<string>("--out") { Description = "Write dashboard.html and panels/<id>-<title>.png here.", Required = true };
        var from = new Option<string>("--from") { Description = "Start: now-15m (the default), -1h, RFC 3339 (2025-01-02T03:04:05Z) or unix seconds.", DefaultValueFactory = _ => "now-15m" };
        var to = new Option<string>("--to") { Description = "End, as --from; default now.", DefaultValueFactory = _ => "now" };
        var step = new Option<string?>("--step") { Description = "Query step, e.g. 5s; default about 300 points over the range, at least 1s." };
        var scrape = new Option<string>("--scrape-interval") { Description = "Prometheus's scrape interval, which $__rate_interval is built from as Grafana does (default 15s).", DefaultValueFactory = _ => "15s" };
        var variables = new Option<string[]>("--var") { Description = "A template variable's value(s): instance=127.0.0.1:9464, gpu=a,b, model=All. Repeatable.", AllowMultipleArgumentsPerToken = false };
        var requireData = new Option<bool>("--require-data") { Description = "Exit 1, naming them, when any panel's queries return no data." };
        var command = new Command("dashboard", "Draw a Grafana dashboard without Grafana: its panels' queries from Prometheus, as dashboard.html and PNGs.")
        {
            prometheus, dashboard, outDir, from, to, step, scrape, variables, requireData,
        };
        command.SetAction(async (result, ct) =>
        {
            var request = new DashboardRequest(
                result.GetValue(prometheus)!,
                result.GetValue(dashboard)!,
                result.GetValue(outDir)!,
                result.GetValue(from)!,
                result.GetValue(to)!,
                result.GetValue(step),
                result.GetValue(scrape)!,
                result.GetValue(variables) ?? [],
                result.GetValue(requireData));
            using var handler = new SocketsHttpHandler();
            return await RunAsync(request, handler, TimeProvider.System, result.InvocationConfiguration.Output, result.InvocationConfiguration.Error, ct);
        });
        return command;
    }

    /// <summary>
    /// Exit 0 when drawn; 1 when Prometheus refused a query or could not be reached, or with --require-data a panel
    /// had no data (each named); 2 for a bad flag or a file that is not a dashboard.
    /// </summary>
    public static async Task<int> RunAsync(DashboardRequest request, HttpMessageHandler handler, TimeProvider time, TextWriter output, TextWriter error, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var problems = new List<string>();
        var now = time.GetUtcNow();
        var from = ParseTime("--from", request.From, now, problems);
        var to = ParseTime("--to", request.To, now, problems);
        var scrape = ParseSpan("--scrape-interval", request.ScrapeInterval, problems);
        if (from is not null && to is not null && to <= from)
        {
            problems.Add($"--from {request.From} is not before --to {request.To}");
        }

        TimeSpan? step = null;
        if (request.Step is not null)
        {
            step = ParseSpan("--step", request.Step, problems);
        }
        else if (from is not null && to is not null && to > from)
        {
            // About 300 points, in whole seconds: enough for a panel's width, and Grafana's default is similar.
            step = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling((to.Value - from.Value).TotalSeconds / 300)));
        }

        if (step is { } s && from is not null && to is not null && to > from && (to.Value - from.Value) / s > MaxPoints)
        {
            problems.Add($"--step {QueryTemplate.Duration(s)} gives more than {MaxPoints} points over the range, which Prometheus refuses; give a larger step");
        }

        var overrides = ParseVariables(request.Variables ?? [], problems);
        if (!Uri.TryCreate(request.Prometheus, UriKind.Absolute, out var prometheus) || prometheus.Scheme is not ("http" or "https"))
        {
            problems.Add($"--prometheus is \"{request.Prometheus}\": expected an address such as http://127.0.0.1:9090");
        }

        GrafanaDashboard? board = null;
        try
        {
            board = GrafanaDashboard.Load(request.Dashboard);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DashboardFormatException)
        {
            problems.Add($"--dashboard {request.Dashboard}: {e.Message}");
        }

        if (problems.Count > 0)
        {
            foreach (string problem in problems)
            {
                await error.WriteLineAsync($"error: {problem}");
            }

            return 2;
        }

        var settings = new RenderSettings(from!.Value, to!.Value, step!.Value, scrape!.Value, overrides);
        using var http = new HttpClient(handler, disposeHandler: false) { Timeout = QueryTimeout };
        IReadOnlyList<PanelOutcome> outcomes;
        try
        {
            outcomes = await DashboardRenderer.RenderAsync(board!, new PrometheusQueries(http, prometheus!), settings, ct);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            await error.WriteLineAsync($"error: cannot query Prometheus at {prometheus}: {e.Message}");
            return 1;
        }

        string panels = Path.Combine(request.Out, "panels");
        Directory.CreateDirectory(panels);
        foreach (var outcome in outcomes)
        {
            await File.WriteAllBytesAsync(Path.Combine(panels, outcome.FileName), outcome.Png, ct);
        }

        string html = Path.Combine(request.Out, "dashboard.html");
        await using (var writer = new StreamWriter(html))
        {
            DashboardRenderer.WriteHtml(writer, board!, outcomes, settings, prometheus!);
        }

        await output.WriteLineAsync($"{board!.Title}: {outcomes.Count} panels from {DashboardRenderer.Describe(settings, prometheus!)}");
        var empty = outcomes.Where(o => !o.HasData && o.Panel.Targets.Count > 0).ToList();
        await output.WriteLineAsync(empty.Count == 0
            ? "every panel with a query has data"
            : $"no data in {empty.Count} of {outcomes.Count(o => o.Panel.Targets.Count > 0)} panels: {string.Join(", ", empty.Select(DashboardRenderer.Name))}");
        await output.WriteLineAsync($"wrote {html} and {outcomes.Count} images in {panels}");
        var errors = outcomes.SelectMany(o => o.Errors).ToList();
        foreach (string message in errors)
        {
            await error.WriteLineAsync($"error: {message}");
        }

        if (request.RequireData && empty.Count > 0)
        {
            await error.WriteLineAsync($"error: --require-data: no data in {string.Join(", ", empty.Select(DashboardRenderer.Name))}");
        }

        return errors.Count > 0 || (request.RequireData && empty.Count > 0) ? 1 : 0;
    }

    /// <summary>now, now-15m, -15m, RFC 3339, or unix seconds.</summary>
    internal static DateTimeOffset? ParseTime(string flag, string text, DateTimeOffset now, List<string> problems)
    {
        string t = text.Trim();
        if (t == "now")
        {
            return now;
        }

        string relative = t.StartsWith("now", StringComparison.Ordinal) ? t[3..] : t;
        if (relative.Length > 1 && relative[0] is '-' or '+' && !char.IsAsciiDigit(relative[^1]) && SettingText.TryParseDuration(relative[1..], out double seconds))
        {
            return now + (relative[0] == '-' ? -1 : 1) * TimeSpan.FromSeconds(seconds);
        }

        if (double.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double unix))
        {
            return DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(unix * 1000));
        }

        if (t.Contains('T', StringComparison.Ordinal) && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at;
        }

        problems.Add($"{flag} is \"{text}\": expected now, now-15m, -15m, an RFC 3339 time such as 2025-01-02T03:04:05Z, or unix seconds");
        return null;
    }

    private static TimeSpan? ParseSpan(string flag, string text, List<string> problems)
    {
        if (SettingText.TryParseDuration(text, out double seconds) && seconds >= 0.001 && seconds <= 7 * 86_400)
        {
            return TimeSpan.FromMilliseconds(Math.Round(seconds * 1000));
        }

        problems.Add($"{flag} is \"{text}\": expected a duration from 1ms to 7d, such as 5s or 1m");
        return null;
    }

    private static Dictionary<string, IReadOnlyList<string>> ParseVariables(IReadOnlyList<string> given, List<string> problems)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string pair in given)
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                problems.Add($"--var is \"{pair}\": expected name=value, such as instance=127.0.0.1:9464");
                continue;
            }

            string name = pair[..equals].Trim();
            var values = pair[(equals + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (!result.TryGetValue(name, out var list))
            {
                result[name] = list = [];
            }

            list.AddRange(values);
        }

        return result.ToDictionary(r => r.Key, r => (IReadOnlyList<string>)r.Value, StringComparer.Ordinal);
    }
}
