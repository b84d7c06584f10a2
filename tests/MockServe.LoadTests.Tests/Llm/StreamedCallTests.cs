using Grpc.Net.Client;

using MockServe.Contracts.V1;
using MockServe.LoadTests.Llm;
using MockServe.LoadTests.Targets;

namespace MockServe.LoadTests.Tests.Llm;

[Collection(RealServers.Name)]
public class StreamedCallTests
{
    private const double TimeScale = 0.1;

    [Fact]
    public async Task RunAsync_EmbeddedServer_ClientTimesAgreeWithTheServersScaledTiming()
    {
        await using var server = await EmbeddedServer.StartAsync(new Dictionary<string, string?> { ["Server:TimeScale"] = "0.1" });
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new InferenceService.InferenceServiceClient(channel);
        await ClientWarmup.WarmAsync(client);

        var outcome = await StreamedCall.RunAsync(
            client, new GenerateRequest { PromptTokens = 2000, MaxTokens = 50, IgnoreEos = true }, TimeProvider.System, null, TimeProvider.System.GetUtcNow().UtcDateTime.AddSeconds(60), default);

        Assert.Equal(StreamedCall.Ok, outcome.Status);
        Assert.Equal(50, outcome.OutputTokens);
        var timing = outcome.Complete!.Timing;
        double serverTtft = timing.TimeToFirstToken.ToTimeSpan().TotalSeconds * TimeScale;
        double serverE2e = timing.EndToEnd.ToTimeSpan().TotalSeconds * TimeScale;
        double clientTtft = outcome.FirstToken!.Value.TotalSeconds;
        // A token never reaches the client before the model says it exists; generous bounds on lateness (2 busy cores: 0.57 s seen).
        Assert.InRange(clientTtft, serverTtft * 0.95, serverTtft + 1.0);
        Assert.InRange(outcome.LastToken!.Value.TotalSeconds, serverE2e * 0.95, serverE2e + 1.0);
        Assert.True(outcome.Gaps.Count >= 1, "one chunk only: no gap to measure");
    }

    [Fact]
    public async Task RunAsync_RefusedRequest_StatusNameAndNoTokens()
    {
        await using var server = await EmbeddedServer.StartAsync(new Dictionary<string, string?> { ["Server:TimeScale"] = "0.01" });
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new InferenceService.InferenceServiceClient(channel);
        await ClientWarmup.WarmAsync(client);

        var outcome = await StreamedCall.RunAsync(
            client, new GenerateRequest { PromptTokens = 0, MaxTokens = 5 }, TimeProvider.System, null, TimeProvider.System.GetUtcNow().UtcDateTime.AddSeconds(30), default);

        Assert.Equal("INVALID_ARGUMENT", outcome.Status);
        Assert.Null(outcome.FirstToken);
        Assert.Equal(0, outcome.OutputTokens);
        Assert.Contains("prompt_tokens", outcome.Detail, StringComparison.Ordinal);
    }
}
