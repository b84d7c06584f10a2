using Grpc.Core;

using MockServe.Contracts.V1;
using MockServe.LoadTests.Measurement;

namespace MockServe.LoadTests.Llm;

/// <summary>How one streamed Generate call went, as its client saw it (wall time) and as the server reported it (model time).</summary>
/// <param name="Status">OK or the gRPC status name (RESOURCE_EXHAUSTED...); CLIENT_CANCELLED when the run ended the call.</param>
/// <param name="FirstToken">Time from sending to the first token; null when none came.</param>
/// <param name="LastToken">Time from sending to the last token; null when none came.</param>
/// <param name="Elapsed">Time from sending to the end of the stream (its completion, or the error).</param>
/// <param name="Gaps">Time between consecutive chunks, the first chunk excluded (that is TTFT).</param>
internal sealed record CallOutcome(
    string Status,
    TimeSpan? FirstToken,
    TimeSpan? LastToken,
    TimeSpan Elapsed,
    long OutputTokens,
    IReadOnlyList<TimeSpan> Gaps,
    GenerateComplete? Complete,
    string? Detail)
{
    public bool Ok => Status == StreamedCall.Ok;

    /// <summary>
    /// The measurement of this call, sent at <paramref name="sentAt"/> on the run's clock; <paramref name="intended"/> and
    /// <paramref name="actual"/> are when the load meant it to start and when it did.
    /// </summary>
    public RequestSample ToSample(string scenario, long index, int copy, int turn, string? session, TimeSpan intended, TimeSpan actual, TimeSpan sentAt, long promptTokens)
    {
        var sample = new RequestSample
        {
            Scenario = scenario,
            RequestIndex = index,
            Copy = copy,
            Turn = turn,
            SessionId = session,
            IntendedStart = intended,
            ActualStart = actual,
            FirstTokenAt = sentAt + FirstToken,
            LastTokenAt = sentAt + LastToken,
            End = sentAt + Elapsed,
            ChunkGaps = Gaps,
            OutputTokens = OutputTokens,
            PromptTokens = promptTokens,
            Status = Status,
            Ok = Ok,
            Error = Detail,
        };
        return Complete is { } complete ? sample.WithComplete(complete) : sample;
    }
}

/// <summary>One Generate call, read to its end, with the time each chunk arrived on the caller's clock.</summary>
internal static class StreamedCall
{
    public const string Ok = RequestSample.OkStatus;
    public const string ClientCancelled = RequestSample.CutStatus;

    public static async Task<CallOutcome> RunAsync(
        InferenceService.InferenceServiceClient client, GenerateRequest request, TimeProvider time, Metadata? headers, DateTime? deadline, CancellationToken ct)
    {
        long sent = time.GetTimestamp();
        TimeSpan? first = null;
        long last = sent;
        long tokens = 0;
        var gaps = new List<TimeSpan>();
        GenerateComplete? complete = null;
        try
        {
            using var call = client.Generate(request, headers, deadline, ct);
            await foreach (var message in call.ResponseStream.ReadAllAsync(ct))
            {
                long now = time.GetTimestamp();
                if (message.EventCase == GenerateResponse.EventOneofCase.Chunk)
                {
                    if (first is null)
                    {
                        first = time.GetElapsedTime(sent, now);
                    }
                    else
                    {
                        gaps.Add(time.GetElapsedTime(last, now));
                    }

                    last = now;
                    tokens = message.Chunk.CompletionTokens;
                }
                else
                {
                    complete = message.Complete;
                }
            }

            long outputTokens = complete?.Usage?.CompletionTokens ?? tokens;
            return new CallOutcome(
                complete is null ? "OK_WITHOUT_COMPLETION" : Ok, first, LastToken(), time.GetElapsedTime(sent), outputTokens, gaps, complete, null);
        }
        catch (RpcException ex) when (ct.IsCancellationRequested && ex.StatusCode == StatusCode.Cancelled)
        {
            return new CallOutcome(ClientCancelled, first, LastToken(), time.GetElapsedTime(sent), tokens, gaps, null, ex.Status.Detail);
        }
        catch (RpcException ex)
        {
            return new CallOutcome(GrpcSamples.StatusName(ex.StatusCode), first, LastToken(), time.GetElapsedTime(sent), tokens, gaps, null, ex.Status.Detail);
        }

        TimeSpan? LastToken() => first is null ? null : time.GetElapsedTime(sent, last);
    }
}
