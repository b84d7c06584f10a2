using System.CommandLine;
using System.Globalization;
using System.Text.Json;

using Grpc.Core;

using MockServe.Benchmarks.Streaming.Load;
using MockServe.Contracts.V1;

namespace MockServe.Benchmarks.Streaming.ScrapeCheck;

/// <summary>
/// <c>scrape-check</c>: sends one fixed request to a fresh mock server, alone or while other tasks fetch /metrics
/// and call GetServerInfo as fast as they can, and compares its token offsets with a saved run. Scrapes read
/// state; they must not move a single token in model time.
/// </summary>
internal static class ScrapeCheckCommand
{
    public const int ExitDiffer = 2;

    // A count bound beside the time bound (--max-seconds) on each hammering task.
    private const int MaxCallsPerScraper = 1_000_000;

    private static readonly TimeSpan ScraperStartLimit = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FailurePause = TimeSpan.FromMilliseconds(10);

    public static Command Create()
    {
        var target = BenchCli.Option("--target", "gRPC address of a freshly started mock server.", "http://127.0.0.1:50151");
        var metricsUrl = BenchCli.Option("--metrics-url", "The server's Prometheus endpoint.", "http://127.0.0.1:9564/metrics");
        var label = BenchCli.Option("--label", "Name of this run in the verdict.", "run");
        var scrape = BenchCli.Option("--scrape", "Hammer /metrics and GetServerInfo while the request streams.", false);
        var scrapers = BenchCli.Option("--scrapers", "Concurrent tasks per kind of scrape.", 1);
        var prompt = BenchCli.Option("--prompt-tokens", "prompt_tokens of the request.", 2000L);
        var maxTokens = BenchCli.Option("--max-tokens", "max_tokens of the request (ignore_eos is set).", 200L);
        var maxSeconds = BenchCli.Option("--max-seconds", "Longest the request (and so the scraping) may take.", 30.0);
        var save = new Option<FileInfo?>("--save") { Description = "Write this run's offsets to this file." };
        var compare = new Option<FileInfo?>("--compare") { Description = "Compare this run's offsets with a saved run's; exit code 2 when they differ." };
        var command = new Command("scrape-check", "Check that metrics scrapes and GetServerInfo calls change no token time of a request.");
        foreach (Option option in new Option[] { target, metricsUrl, label, scrape, scrapers, prompt, maxTokens, maxSeconds, save, compare })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, ct) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var limit = TimeSpan.FromSeconds(Math.Clamp(parseResult.GetValue(maxSeconds), 1, 3600));
            var run = await RunAsync(
                new Uri(parseResult.GetValue(target)!),
                parseResult.GetValue(scrape) ? new Uri(parseResult.GetValue(metricsUrl)!) : null,
                Math.Max(1, parseResult.GetValue(scrapers)),
                parseResult.GetValue(label)!,
                parseResult.GetValue(prompt),
                parseResult.GetValue(maxTokens),
                limit,
                ct);
            await output.WriteLineAsync(Describe(run));
            if (parseResult.GetValue(save) is { } saveFile)
            {
                await File.WriteAllTextAsync(saveFile.FullName, JsonSerializer.Serialize(run, LoadReport.Json), ct);
            }

            if (parseResult.GetValue(compare) is not { } compareFile)
            {
                return BenchCli.ExitOk;
            }

            var reference = JsonSerializer.Deserialize<ScrapeRun>(await File.ReadAllTextAsync(compareFile.FullName, ct), LoadReport.Json)
                ?? throw new InvalidDataException($"{compareFile.FullName}: not a saved scrape-check run");
            var (same, verdict) = ScrapeRun.Compare(reference, run);
            await output.WriteLineAsync($"verdict: {verdict}");
            return same ? BenchCli.ExitOk : ExitDiffer;
        });
        return command;
    }

    private static async Task<ScrapeRun> RunAsync(
        Uri target, Uri? metricsUrl, int scrapers, string label, long promptTokens, long maxTokens, TimeSpan limit, CancellationToken ct)
    {
        var time = TimeProvider.System;
        using var channel = Connections.OneConnection(target);
        var client = new InferenceService.InferenceServiceClient(channel);
        await Connections.WaitReadyAsync(client, time, TimeSpan.FromSeconds(30), ct);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(limit);
        var counts = new ScrapeCounts();
        // The scrapers get their own connection, as a monitoring agent would have.
        using var infoChannel = Connections.OneConnection(target);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var hammers = new List<Task>();
        if (metricsUrl is not null)
        {
            var infoClient = new InferenceService.InferenceServiceClient(infoChannel);
            for (int i = 0; i < scrapers; i++)
            {
                hammers.Add(HammerMetricsAsync(http, metricsUrl, counts, stop.Token));
                hammers.Add(HammerInfoAsync(infoClient, counts, stop.Token));
            }

            // Scraping must already be going when the request arrives, or its first steps would run undisturbed.
            long waitStart = time.GetTimestamp();
            while ((Interlocked.Read(ref counts.Metrics) == 0 || Interlocked.Read(ref counts.Info) == 0) && time.GetElapsedTime(waitStart) < ScraperStartLimit)
            {
                await Task.Delay(FailurePause, time, ct);
            }
        }

        var offsets = new List<TokenOffset>();
        var request = new GenerateRequest { PromptTokens = promptTokens, MaxTokens = maxTokens, IgnoreEos = true };
        long sent = time.GetTimestamp();
        try
        {
            using var call = client.Generate(request, deadline: time.GetUtcNow().UtcDateTime + limit, cancellationToken: ct);
            while (await call.ResponseStream.MoveNext(ct))
            {
                if (call.ResponseStream.Current.Chunk is { } chunk)
                {
                    offsets.AddRange(chunk.TokenOffsets.Select(o => new TokenOffset(o.Seconds, o.Nanos)));
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(hammers);
        }

        return new ScrapeRun
        {
            Label = label,
            PromptTokens = promptTokens,
            MaxTokens = maxTokens,
            Offsets = offsets,
            StreamSeconds = time.GetElapsedTime(sent).TotalSeconds,
            MetricsScrapes = counts.Metrics,
            MetricsFailures = counts.MetricsFailures,
            InfoCalls = counts.Info,
            InfoFailures = counts.InfoFailures,
        };
    }

    private static async Task HammerMetricsAsync(HttpClient http, Uri url, ScrapeCounts counts, CancellationToken stop)
    {
        for (int n = 0; n < MaxCallsPerScraper && !stop.IsCancellationRequested; n++)
        {
            try
            {
                using var response = await http.GetAsync(url, stop);
                _ = await response.Content.ReadAsByteArrayAsync(stop);
                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref counts.Metrics);
                }
                else
                {
                    Interlocked.Increment(ref counts.MetricsFailures);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                // Refused, reset or timed out (HttpClient.Timeout): counted, and the hammer goes on.
                Interlocked.Increment(ref counts.MetricsFailures);
                await Pause(stop);
            }
        }
    }

    private static async Task HammerInfoAsync(InferenceService.InferenceServiceClient client, ScrapeCounts counts, CancellationToken stop)
    {
        for (int n = 0; n < MaxCallsPerScraper && !stop.IsCancellationRequested; n++)
        {
            try
            {
                await client.GetServerInfoAsync(new GetServerInfoRequest(), cancellationToken: stop);
                Interlocked.Increment(ref counts.Info);
            }
            catch (RpcException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException)
            {
                Interlocked.Increment(ref counts.InfoFailures);
                await Pause(stop);
            }
        }
    }

    // A failing endpoint must not turn a hammer into a busy spin.
    private static async Task Pause(CancellationToken stop)
    {
        try
        {
            await Task.Delay(FailurePause, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string Describe(ScrapeRun run)
    {
        string offsets = run.Offsets.Count == 0 ? "no tokens" : $"{run.Offsets.Count} tokens, offsets {run.Offsets[0]} .. {run.Offsets[^1]}";
        string scrapes = run.MetricsScrapes + run.MetricsFailures + run.InfoCalls + run.InfoFailures == 0
            ? "no scraping"
            : string.Create(CultureInfo.InvariantCulture, $"{run.MetricsScrapes:N0} /metrics scrapes ({run.MetricsFailures} failed) and {run.InfoCalls:N0} GetServerInfo calls ({run.InfoFailures} failed) meanwhile");
        return string.Create(CultureInfo.InvariantCulture, $"{run.Label}: prompt {run.PromptTokens}, max_tokens {run.MaxTokens}: {offsets}, streamed in {run.StreamSeconds:0.000} s wall; {scrapes}");
    }

    /// <summary>Counters the hammer tasks share, written with Interlocked.</summary>
    private sealed class ScrapeCounts
    {
        public long Metrics;
        public long MetricsFailures;
        public long Info;
        public long InfoFailures;
    }
}
