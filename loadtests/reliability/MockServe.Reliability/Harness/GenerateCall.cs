using Grpc.Core;

using MockServe.Contracts.V1;

namespace MockServe.Reliability.Harness;

/// <summary>How one Generate stream read to its end went.</summary>
/// <param name="Outcome">See <see cref="Harness.Outcome"/>; OK only when the completion arrived.</param>
/// <param name="Tokens">Tokens received.</param>
/// <param name="Error">The exception that ended the stream, if one did.</param>
/// <param name="Elapsed">From the call's start to its end.</param>
internal sealed record CallResult(string Outcome, long Tokens, RpcException? Error, TimeSpan Elapsed);

internal static class GenerateCall
{
    /// <summary>
    /// Runs one Generate call and reads it to its end. A CANCELLED status counts as the client's own when
    /// <paramref name="cancel"/> was cancelled by the caller; <paramref name="onMessage"/> sees each message.
    /// </summary>
    public static async Task<CallResult> RunAsync(
        InferenceService.InferenceServiceClient client,
        GenerateRequest request,
        TimeProvider time,
        DateTime? deadline = null,
        CancellationToken cancel = default,
        Action<GenerateResponse>? onMessage = null)
    {
        long start = time.GetTimestamp();
        long tokens = 0;
        bool complete = false;
        try
        {
            using var call = client.Generate(request, deadline: deadline, cancellationToken: cancel);
            while (await call.ResponseStream.MoveNext(cancel))
            {
                var message = call.ResponseStream.Current;
                tokens += message.Chunk?.TokenIds.Count ?? 0;
                complete |= message.Complete is not null;
                onMessage?.Invoke(message);
            }

            return new CallResult(complete ? Outcome.Ok : Outcome.OkWithoutCompletion, tokens, null, time.GetElapsedTime(start));
        }
        catch (RpcException ex)
        {
            // The client's own deadline ends its call as its own cancel does, and can race a read the same way.
            bool endedByClient = cancel.IsCancellationRequested || time.GetUtcNow().UtcDateTime >= deadline;
            return new CallResult(Outcome.Of(ex, endedByClient), tokens, ex, time.GetElapsedTime(start));
        }
    }
}
