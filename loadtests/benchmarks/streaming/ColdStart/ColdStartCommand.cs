using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

using MockServe.Contracts.V1;

namespace MockServe.Benchmarks.Streaming.ColdStart;

/// <summary>
/// <c>cold-start</c>: how late the first requests after a server's start reach a client whose own code is already
/// compiled. The client first warms itself on another server, then waits for the target's readiness and sends a
/// few requests one after the other, measuring each one's first and last token against the model's times.
/// </summary>
internal static class ColdStartCommand
{
    public static Command Create()
    {
        var warmTarget = BenchCli.Option("--warm-target", "A server the client warms its own code on first.", "http://127.0.0.1:50153");
        var target = BenchCli.Option("--target", "The freshly started server to measure.", "http://127.0.0.1:50151");
        var requests = BenchCli.Option("--requests", "Requests sent one after the other once the target is ready.", 5);
        var timeScale = BenchCli.Option("--time-scale", "The target's wall seconds per model second.", 1.0);
        var json = new Option<FileInfo?>("--json") { Description = "Append the result as one JSON line to this file." };
        var command = new Command("cold-start", "Lateness of the first requests after a server starts, from a client that is already warm.");
        foreach (Option option in new Option[] { warmTarget, target, requests, timeScale, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, ct) =>
        {
            int count = parseResult.GetValue(requests);
            if (count is < 1 or > 100)
            {
                return BenchCli.Fail(parseResult, $"--requests: must be 1 to 100, got {count}");
            }

            double scale = parseResult.GetValue(timeScale);
            using (var warm = GrpcChannel.ForAddress(parseResult.GetValue(warmTarget)!))
            {
                await WaitUntilReadyAsync(warm, ct);
                for (int i = 0; i < 5; i++)
                {
                    await MeasureAsync(warm, scale, ct);
                }
            }

            using var channel = GrpcChannel.ForAddress(parseResult.GetValue(target)!);
            await WaitUntilReadyAsync(channel, ct);
            var results = new List<(double First, double Last)>();
            for (int i = 0; i < count; i++)
            {
                results.Add(await MeasureAsync(channel, scale, ct));
            }

            var output = parseResult.InvocationConfiguration.Output;
            await output.WriteLineAsync(string.Join(
                "  ", results.Select((r, i) => string.Create(CultureInfo.InvariantCulture, $"#{i + 1} first {r.First:F1} ms, last {r.Last:F1} ms"))));
            if (parseResult.GetValue(json) is { } file)
            {
                string line = JsonSerializer.Serialize(new
                {
                    firstTokenLatenessMs = results.Select(r => r.First).ToArray(),
                    lastTokenLatenessMs = results.Select(r => r.Last).ToArray(),
                });
                await File.AppendAllTextAsync(file.FullName, line + Environment.NewLine, ct);
            }

            return BenchCli.ExitOk;
        });
        return command;
    }

    /// <summary>One request (prompt 2000, 5 tokens): lateness of its first and last token, in ms.</summary>
    private static async Task<(double First, double Last)> MeasureAsync(GrpcChannel channel, double scale, CancellationToken ct)
    {
        var client = new InferenceService.InferenceServiceClient(channel);
        long sent = Stopwatch.GetTimestamp();
        using var call = client.Generate(new GenerateRequest { PromptTokens = 2000, MaxTokens = 5, IgnoreEos = true }, cancellationToken: ct);
        double first = double.NaN;
        double last = double.NaN;
        await foreach (var message in call.ResponseStream.ReadAllAsync(ct))
        {
            if (message.EventCase != GenerateResponse.EventOneofCase.Chunk)
            {
                continue;
            }

            double at = Stopwatch.GetElapsedTime(sent).TotalSeconds;
            foreach (var offset in message.Chunk.TokenOffsets)
            {
                double late = (at - (offset.ToTimeSpan().TotalSeconds * scale)) * 1000;
                first = double.IsNaN(first) ? late : first;
                last = late;
            }
        }

        return (first, last);
    }

    private static async Task WaitUntilReadyAsync(GrpcChannel channel, CancellationToken ct)
    {
        var health = new Health.HealthClient(channel);
        var request = new HealthCheckRequest { Service = "mockserve.v1.InferenceService" };
        for (int i = 0; i < 600; i++)
        {
            try
            {
                if ((await health.CheckAsync(request, cancellationToken: ct)).Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    return;
                }
            }
            catch (RpcException)
            {
                // Not listening yet.
            }

            await Task.Delay(50, ct);
        }

        throw new TimeoutException("the target did not report SERVING within 30 s");
    }
}
