using System.Globalization;

using Grpc.Core;

using MockServe.Contracts.V1;
using MockServe.Reliability.Harness;

namespace MockServe.Reliability.Fuzz;

/// <summary>
/// The ids the server gives requests that bring none: they name the request to Abort, so anyone who can guess one
/// can cancel another client's stream. They must be distinct and random (128 bits: 32 hex digits, dashes aside),
/// and Abort with guessed ids (ms-1, ms-2, ..., the form a counter gives) must find no stream.
/// </summary>
internal static class RequestIds
{
    private const int Streams = 20;
    private const int Guesses = 500;

    public static async Task CheckAsync(RunContext run, Verdict verdict, ServerProcess server, CancellationToken ct)
    {
        var time = run.Time;
        var client = new InferenceService.InferenceServiceClient(server.Channel);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var ids = new List<string>();
        var calls = new List<AsyncServerStreamingCall<GenerateResponse>>();
        try
        {
            for (int i = 0; i < Streams; i++)
            {
                // Long enough to be in flight while the guesses run (5,000 tokens: about 2 s at this time scale).
                var call = client.Generate(new GenerateRequest { PromptTokens = 100, MaxTokens = 5_000, IgnoreEos = true },
                    deadline: time.GetUtcNow().UtcDateTime.AddSeconds(60), cancellationToken: cancel.Token);
                calls.Add(call);
                if (await call.ResponseStream.MoveNext(cancel.Token))
                {
                    ids.Add(call.ResponseStream.Current.RequestId);
                }
            }

            int aborted = 0;
            for (int n = 1; n <= Guesses; n++)
            {
                try
                {
                    await client.AbortAsync(new AbortRequest { RequestId = string.Create(CultureInfo.InvariantCulture, $"ms-{n}") }, cancellationToken: ct);
                    aborted++;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
                {
                }
            }

            int random = ids.Count(IsRandom128);
            string examples = string.Join(", ", ids.Take(3));
            verdict.Check("server-assigned request ids are distinct and random (128 bits)", ids.Count == Streams && ids.Distinct().Count() == Streams && random == Streams,
                $"{ids.Count} ids from {Streams} streams, {ids.Distinct().Count()} distinct, {random} with 32+ hex digits; e.g. {examples}");
            verdict.Check("no stream can be aborted by guessing its id", aborted == 0, $"{aborted} of {Guesses} guesses (ms-1 to ms-{Guesses}) aborted a stream");
        }
        finally
        {
            await cancel.CancelAsync();
            foreach (var call in calls)
            {
                call.Dispose();
            }
        }
    }

    /// <summary>True when the id holds a run of at least 32 hex digits once dashes are removed (a Guid in any form, 128 bits in hex).</summary>
    private static bool IsRandom128(string id)
    {
        int run = 0;
        int longest = 0;
        foreach (char c in id.Replace("-", "", StringComparison.Ordinal))
        {
            run = char.IsAsciiHexDigit(c) ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return longest >= 32;
    }
}
