using Grpc.Net.Client;

using MockServe.Contracts.V1;
using MockServe.LoadTests.Llm;
using MockServe.LoadTests.Reports;
using MockServe.LoadTests.Running;
using MockServe.LoadTests.Simulations;
using MockServe.LoadTests.Targets;
using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Tests.Targets;

[Collection(RealServers.Name)]
public class ServerMetricsRunTests
{
    [Fact]
    public async Task RunAsync_ScraperOnTheEmbeddedServer_FourServerChartsWithPrefillAndDecodeInModelSeconds()
    {
        await using var server = await EmbeddedServer.StartAsync(new Dictionary<string, string?> { ["Server:TimeScale"] = "0.01" });
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new InferenceService.InferenceServiceClient(channel);
        await ClientWarmup.WarmAsync(client);
        var workload = WorkloadPlan.Create(new WorkloadOptions { Context = "fixed:20000", Message = "fixed:100", Output = "fixed:20", Turns = "fixed:3" }, new Random(1));
        var chat = ChatUsers.Create("chat", client, workload).WithLoadSimulations(Simulation.KeepConstant(2, TimeSpan.FromSeconds(3)));
        var output = new StringWriter();
        var scraper = new ServerMetricsScraper(server.MetricsAddress, output);
        using var reports = new TempDirectory();

        var outcome = await LoadRunner.RunAsync([chat], new RunOptions { ReportDirectory = reports.Path, Monitors = [scraper] });

        Assert.Equal(0, scraper.FailedScrapes);
        Assert.InRange(scraper.Scrapes, 2, 10);
        var series = outcome.Report.Series;
        string[] charts = [ServerMetricsScraper.ConcurrencyChart, ServerMetricsScraper.PrefillChart, ServerMetricsScraper.DecodeChart, ServerMetricsScraper.ContextSwitchChart];
        Assert.All(charts, chart => Assert.Contains(series, s => s.Chart == chart && s.Points.Count > 0));
        var prefill = Assert.Single(series, s => s.Name == "prefill tokens/s").Points;
        var decode = Assert.Single(series, s => s.Name == "generation tokens/s").Points;
        Assert.Contains(prefill, p => p.Value > 0);
        Assert.Contains(decode, p => p.Value > 0);
        // Model seconds, not wall: prefill cannot beat the weight matmuls at the A100's full 312 TFLOP/s,
        // 312e12 / (2 x 34.39e9) = 4,536 tokens a model second (twice that allows for a scrape's jitter); per wall
        // second at time scale 0.01 it would be a hundred times more.
        double ceiling = YiOnA100.Flops / (2 * YiOnA100.Params);
        Assert.All(prefill, p => Assert.InRange(p.Value, 0, 2 * ceiling));
        string html = await File.ReadAllTextAsync(Path.Combine(reports.Path, ReportWriter.HtmlFile));
        Assert.All(charts, chart => Assert.Contains($"<img alt=\"{chart}\"", html, StringComparison.Ordinal));
        Assert.Equal("", output.ToString());
    }
}
