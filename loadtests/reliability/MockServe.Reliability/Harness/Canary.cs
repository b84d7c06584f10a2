using Grpc.Core;

using MockServe.Contracts.V1;

namespace MockServe.Reliability.Harness;

/// <summary>One ordinary Generate call, read to its end: the proof that the server still serves after a suite's abuse.</summary>
internal static class Canary
{
    private const int Tokens = 5;

    public static async Task CheckAsync(ServerProcess server, Verdict verdict, TimeProvider time, CancellationToken ct)
    {
        var (ok, detail) = await TryAsync(server, time, ct);
        verdict.Check("a normal call still succeeds afterwards", ok, detail);
    }

    /// <summary>Prompt 100, 5 tokens: true when all 5 and the completion arrived within 30 s.</summary>
    public static async Task<(bool Ok, string Detail)> TryAsync(ServerProcess server, TimeProvider time, CancellationToken ct)
    {
        if (server.HasExited)
        {
            return (false, "the server is not running");
        }

        var client = new InferenceService.InferenceServiceClient(server.Channel);
        var request = new GenerateRequest { PromptTokens = 100, MaxTokens = Tokens, IgnoreEos = true };
        long start = time.GetTimestamp();
        try
        {
            using var call = client.Generate(request, deadline: time.GetUtcNow().UtcDateTime.AddSeconds(30), cancellationToken: ct);
            long tokens = 0;
            bool complete = false;
            await foreach (var message in call.ResponseStream.ReadAllAsync(ct))
            {
                tokens += message.Chunk?.TokenIds.Count ?? 0;
                complete |= message.Complete is not null;
            }

            return (complete && tokens == Tokens,
                $"prompt 100, max_tokens {Tokens}: {tokens} tokens, {(complete ? "complete" : "no completion")} in {time.GetElapsedTime(start).TotalMilliseconds:0} ms");
        }
        catch (RpcException ex)
        {
            return (false, $"{Outcome.Of(ex, false)}: {ex.Status.Detail}");
        }
    }
}
