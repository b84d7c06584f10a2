using System.Text;

using Grpc.Core;

using Microsoft.Extensions.Logging;

using MockServe.Contracts.V1;
using MockServe.Core.Engine;
using MockServe.Server.Hosting;
using MockServe.Server.Text;

namespace MockServe.Server.Services;

/// <summary>
/// The one writer of a Generate response stream: reads the request's events from its handle and sends every token
/// that is due as one message, then the completion. Injected aborts and stalls act at half the target length; a
/// stop sequence ends the turn early, as end-of-sequence would. When the server's drain runs out, the stream ends
/// with UNAVAILABLE after the tokens already sent. The client is told its own <c>requestId</c>; the log names the
/// engine's (which carries the client's identity when API keys are on).
/// </summary>
internal sealed class GenerateStream(
    EngineLane lane,
    TimeProvider time,
    RequestHandle handle,
    string requestId,
    TokenText.Stream text,
    StopSequenceMatcher stops,
    long target,
    string? failure,
    double stallSeconds,
    bool logRequests,
    ILogger logger)
{
    private static readonly TimeSpan CallEndWait = TimeSpan.FromSeconds(1);

    private long _sent;

    /// <param name="writer">The response stream.</param>
    /// <param name="ct">The call's token: the client went away or its deadline passed.</param>
    /// <param name="drainEnded">The server's drain is over: end now.</param>
    public async Task RunAsync(IServerStreamWriter<GenerateResponse> writer, CancellationToken ct, CancellationToken drainEnded)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, drainEnded);
        try
        {
            await StreamAsync(writer, ct, either.Token);
        }
        catch (OperationCanceledException) when (drainEnded.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            handle.Cancel();
            LogEnded($"drain over after {_sent} tokens");
            throw new RpcException(new Status(StatusCode.Unavailable, $"server shutting down: its drain ended before request {requestId} finished, after {_sent} tokens"));
        }
        catch (Exception ex) when (ct.IsCancellationRequested && ex is OperationCanceledException or InvalidOperationException)
        {
            // The client went away or its deadline passed: a status nobody reads, but not UNKNOWN in the server's books.
            // At a deadline grpc-dotnet completes the response itself, and a write racing it throws InvalidOperationException
            // ("Writing is not allowed after writer was completed"), logged with its stack trace before this catch existed.
            throw new RpcException(new Status(StatusCode.Cancelled, $"request {requestId}: the call was cancelled after {_sent} tokens"));
        }
    }

    /// <summary>
    /// One write. grpc-dotnet completes the response itself when the call ends under the handler (its deadline, the
    /// client's reset), and may do so before the call's token reads cancelled: a write then throws
    /// InvalidOperationException ("Writing is not allowed after writer was completed"), which would be logged with its
    /// stack trace as the handler's error. This code never completes the writer, so that exception means the call is over:
    /// it waits (a second at most) for grpc-dotnet to finish ending the call and cancel its token, so the handler ends
    /// as it does when the token was already cancelled, without racing grpc-dotnet's own ending of the call.
    /// </summary>
    private async Task WriteAsync(IServerStreamWriter<GenerateResponse> writer, GenerateResponse message, CancellationToken ct, bool cancelRequest)
    {
        try
        {
            await writer.WriteAsync(message, ct);
        }
        catch (InvalidOperationException) when (!ct.IsCancellationRequested)
        {
            if (cancelRequest)
            {
                handle.Cancel();
            }

            try
            {
                await Task.Delay(CallEndWait, time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The call's token caught up with its completed response.
            }

            throw new RpcException(new Status(StatusCode.Cancelled, $"request {requestId}: the call ended after {_sent} tokens"));
        }
    }

    /// <param name="ct">The call's token, for writes: cancelling a write resets the HTTP/2 stream, so the drain never does.</param>
    /// <param name="wait">The call's token or the drain's end, for waits.</param>
    private async Task StreamAsync(IServerStreamWriter<GenerateResponse> writer, CancellationToken ct, CancellationToken wait)
    {
        long failAt = failure is FailureKinds.Abort or FailureKinds.Stall ? Math.Max(1, target / 2) : -1;
        var reader = handle.Events;
        var chunkText = new StringBuilder();
        bool stopped = false;
        // The call's own cancellation cancels the request, whose end completes the reader; the drain's end does not.
        while (await reader.WaitToReadAsync(wait))
        {
            var chunk = new TokenChunk();
            RequestResult? result = null;
            double oldest = double.NaN;
            bool failNow = false;
            while (!failNow && result is null && reader.TryRead(out var item))
            {
                if (item.IsEnd)
                {
                    result = item.Result;
                    break;
                }

                if (stopped)
                {
                    // Produced after the stop sequence, before the engine heard of it: never sent.
                    continue;
                }

                chunk.TokenIds.Add(text.Next(chunkText));
                chunk.TokenOffsets.Add(ProtoMapping.Seconds(item.Time - handle.ArrivalTime));
                oldest = double.IsNaN(oldest) ? item.Time : oldest;
                _sent++;
                failNow = _sent == failAt;
                if (stops.TryCut(chunkText))
                {
                    // The stop sequence ends the turn as end-of-sequence would: the session keeps its KV.
                    stopped = true;
                    handle.Stop();
                }
            }

            if (chunk.TokenIds.Count > 0)
            {
                chunk.Text = chunkText.ToString();
                chunkText.Clear();
                stops.Sent(chunk.Text);
                chunk.CompletionTokens = _sent;
                // The engine ends a turn in the step of its target token, so a result may not be read yet; an injected
                // abort ends it without a last chunk.
                chunk.Last = !(failNow && failure == FailureKinds.Abort)
                    && (stopped || _sent >= target || result is { FinishReason: not Core.Engine.FinishReason.Cancelled });
                lane.Metrics.ObserveStreamLag(lane.Engine.Now - oldest);
                await WriteAsync(writer, new GenerateResponse { RequestId = requestId, Chunk = chunk }, ct, cancelRequest: true);
            }

            if (failNow && failure == FailureKinds.Abort)
            {
                handle.Cancel();
                LogEnded($"injected abort after {_sent} tokens");
                throw new RpcException(new Status(StatusCode.Internal, $"injected failure (abort): the stream broke after {_sent} tokens"));
            }

            if (failNow && failure == FailureKinds.Stall)
            {
                // The engine goes on producing; the client sees nothing until the stall ends, then the backlog at once.
                await Task.Delay(lane.Engine.ToWall(stallSeconds), time, wait);
            }

            if (result is not null)
            {
                await CompleteAsync(result, _sent, stopped, writer, ct);
                return;
            }
        }

        throw new RpcException(new Status(StatusCode.Internal, $"request {requestId}: the engine ended the stream without a result"));
    }

    private void LogEnded(string reason)
    {
        if (logRequests)
        {
            Log.RequestEnded(logger, handle.Request.RequestId, reason);
        }
    }

    /// <param name="stopped">A stop sequence ended the turn: the engine may have reached max_tokens before it heard.</param>
    private async Task CompleteAsync(RequestResult result, long sent, bool stopped, IServerStreamWriter<GenerateResponse> writer, CancellationToken ct)
    {
        if (result.FinishReason == Core.Engine.FinishReason.Cancelled)
        {
            // The client went away (or its deadline passed): nobody is left to tell.
            ct.ThrowIfCancellationRequested();
            LogEnded("aborted by Abort or CloseSession");
            throw new RpcException(new Status(StatusCode.Cancelled, $"request {requestId} was aborted (Abort or CloseSession) after {sent} tokens"));
        }

        // The client saw the stop sequence end its turn, whatever the engine produced after it and before it heard.
        var finish = stopped || result.FinishReason == Core.Engine.FinishReason.Stop ? Contracts.V1.FinishReason.Stop : Contracts.V1.FinishReason.Length;
        var complete = new GenerateComplete
        {
            FinishReason = finish,
            Usage = new Usage
            {
                PromptTokens = result.PromptTokens,
                CachedTokens = result.CachedTokens,
                CompletionTokens = sent,
                RecomputedTokens = result.RecomputedTokens,
            },
            Timing = result.ToTiming(),
        };
        await WriteAsync(writer, new GenerateResponse { RequestId = requestId, Complete = complete }, ct, cancelRequest: false);
        if (!logRequests)
        {
            return;
        }

        Log.RequestFinished(
            logger, handle.Request.RequestId, handle.Request.SessionId ?? "", finish.ToString().ToLowerInvariant(), result.PromptTokens, result.CachedTokens,
            result.CacheState.ToString().ToLowerInvariant(), sent, result.TimeToFirstToken, result.QueueSeconds, result.SwapInSeconds,
            result.PrefillSeconds, result.DecodeSeconds, result.Preemptions);
    }
}
