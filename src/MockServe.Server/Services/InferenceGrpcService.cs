using System.Globalization;
using System.Text;

using Grpc.Core;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using MockServe.Contracts.V1;
using MockServe.Core.CostModel;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Failures;
using MockServe.Server.Hosting;
using MockServe.Server.Metrics;
using MockServe.Server.Text;

namespace MockServe.Server.Services;

/// <summary>
/// mockserve.v1.InferenceService: translates between proto messages and the engine. The engine decides when
/// each token is due; this class only streams what is due, one writer per response stream.
/// </summary>
internal sealed class InferenceGrpcService(
    EngineHost host,
    IPromptTokenizer tokenizer,
    TokenText tokenText,
    FailureInjector failures,
    IOptions<ServerOptions> serverOptions,
    IOptions<FailureInjectionOptions> failureOptions,
    ILogger<InferenceGrpcService> logger) : InferenceService.InferenceServiceBase
{
    private const int MaxIdLength = 256;
    private const int MaxStopSequences = 16;
    private const int MaxStopLength = 256;

    // Model seconds a client refused for a full queue is asked to wait before retrying.
    private const double RetryAfterModelSeconds = 5;

    private static long _nextRequestId;

    private readonly ServerOptions _server = serverOptions.Value;

    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateResponse> responseStream, ServerCallContext context)
    {
        var metrics = host.Metrics;
        if (host.IsDraining)
        {
            metrics.CountRequest(RequestOutcomes.RejectedUnavailable);
            throw Errors.Unavailable("the server is shutting down: no new requests are accepted");
        }

        string? failure;
        long promptTokens;
        long maxTokens;
        try
        {
            failure = failures.Decide(context.RequestHeaders);
            (promptTokens, maxTokens) = Validate(request);
        }
        catch (RpcException)
        {
            metrics.CountRequest(RequestOutcomes.RejectedInvalid);
            throw;
        }

        if (failure == FailureKinds.Refuse)
        {
            metrics.CountRequest(RequestOutcomes.FailedInjected);
            throw Errors.Unavailable("injected failure (refuse): the request was refused before it started");
        }

        string requestId = request.RequestId.Length > 0
            ? request.RequestId
            : string.Create(CultureInfo.InvariantCulture, $"ms-{Interlocked.Increment(ref _nextRequestId)}");
        var text = tokenText.For(requestId, request.PromptCase == GenerateRequest.PromptOneofCase.Text ? request.Text : null);
        long target = request.IgnoreEos ? maxTokens : text.Between(Math.Clamp(request.MinTokens, 1, maxTokens), maxTokens);
        var sink = new GenerateSink(maxTokens);
        var submitted = host.Engine.Submit(new InferenceRequest
        {
            RequestId = requestId,
            SessionId = request.SessionId.Length > 0 ? request.SessionId : null,
            PromptTokens = promptTokens,
            MaxTokens = maxTokens,
            StopAfterTokens = target < maxTokens ? target : null,
            Tag = sink,
        });
        if (!submitted.IsAccepted)
        {
            metrics.CountRequest(submitted.Reason == RejectReason.QueueFull ? RequestOutcomes.RejectedQueueFull : RequestOutcomes.RejectedInvalid);
            throw Errors.FromRefusal(submitted, host.Clock.ToWall(RetryAfterModelSeconds));
        }

        host.StreamStarted();
        try
        {
            using var cancel = context.CancellationToken.Register(() => host.Engine.Cancel(requestId));
            await Stream(request, requestId, sink, text, target, failure, responseStream, context.CancellationToken);
        }
        finally
        {
            if (!sink.IsFinished)
            {
                host.Engine.Cancel(requestId);
            }

            host.StreamEnded();
        }
    }

    public override Task<AbortResponse> Abort(AbortRequest request, ServerCallContext context)
    {
        if (request.RequestId.Length == 0)
        {
            throw Errors.Invalid("request_id: must not be empty");
        }

        return host.Engine.Cancel(request.RequestId)
            ? Task.FromResult(new AbortResponse())
            : throw Errors.NotFound($"request_id: no request '{request.RequestId}' is in flight");
    }

    public override Task<CloseSessionResponse> CloseSession(CloseSessionRequest request, ServerCallContext context)
    {
        if (request.SessionId.Length == 0)
        {
            throw Errors.Invalid("session_id: must not be empty");
        }

        return host.Engine.CloseSession(request.SessionId)
            ? Task.FromResult(new CloseSessionResponse())
            : throw Errors.NotFound($"session_id: no session '{request.SessionId}' (never seen, closed or expired)");
    }

    public override Task<GetServerInfoResponse> GetServerInfo(GetServerInfoRequest request, ServerCallContext context)
    {
        var cost = host.Engine.CostModel;
        var deployment = host.Deployment;
        return Task.FromResult(new GetServerInfoResponse
        {
            Model = deployment.Model.ToProto(),
            Gpu = deployment.Gpu.ToProto(),
            TensorParallel = deployment.TensorParallel,
            Scheduler = host.Engine.SchedulerName,
            TimeScale = host.Clock.TimeScale,
            Capacity = new Capacity
            {
                WeightBytes = cost.WeightBytes,
                KvCapacityBytes = cost.KvCapacityBytes,
                KvBytesPerToken = cost.KvBytesPerToken,
                KvCapacityTokens = host.Engine.HbmCapacityTokens,
                ReferenceContextTokens = _server.ReferenceContextTokens,
                MaxConcurrentUsers = cost.MaxConcurrentUsers(_server.ReferenceContextTokens),
            },
            Pool = host.Engine.Snapshot().ToProto(),
            Version = typeof(InferenceGrpcService).Assembly.GetName().Version?.ToString(3) ?? "",
        });
    }

    public override Task<EstimateResponse> Estimate(EstimateRequest request, ServerCallContext context)
    {
        var served = host.Deployment;
        var model = request.Model.Length == 0 ? served.Model : Presets.FindModel(request.Model)
            ?? throw Errors.Invalid($"model: unknown preset '{request.Model}', expected one of {string.Join(", ", Presets.Models.Select(m => m.Id))}");
        var gpu = request.Gpu.Length == 0 ? served.Gpu : Presets.FindGpu(request.Gpu)
            ?? throw Errors.Invalid($"gpu: unknown preset '{request.Gpu}', expected one of {string.Join(", ", Presets.Gpus.Select(g => g.Id))}");
        if (request.TensorParallel is < 0 or > 64)
        {
            throw Errors.Invalid($"tensor_parallel: must be 0 (the served degree) to 64, got {request.TensorParallel}");
        }

        if (request.ContextTokens < 1 || request.ContextTokens > model.MaxContext)
        {
            throw Errors.Invalid($"context_tokens: must be between 1 and {model.Id}'s context of {model.MaxContext}, got {request.ContextTokens}");
        }

        long decode = request.DecodeTokens == 0 ? 1 : request.DecodeTokens;
        if (decode < 1 || decode > model.MaxContext)
        {
            throw Errors.Invalid($"decode_tokens: must be between 1 and {model.MaxContext}, got {request.DecodeTokens}");
        }

        var deployment = served with
        {
            Model = model,
            Gpu = gpu,
            TensorParallel = request.TensorParallel == 0 ? served.TensorParallel : request.TensorParallel,
        };
        return Task.FromResult(new GpuCostModel(deployment).Summarize(request.ContextTokens, decode).ToProto());
    }

    private (long Prompt, long Max) Validate(GenerateRequest r)
    {
        long maxContext = host.Deployment.Model.MaxContext;
        if (r.RequestId.Length > MaxIdLength)
        {
            throw Errors.Invalid($"request_id: at most {MaxIdLength} characters, got {r.RequestId.Length}");
        }

        if (r.SessionId.Length > MaxIdLength)
        {
            throw Errors.Invalid($"session_id: at most {MaxIdLength} characters, got {r.SessionId.Length}");
        }

        long prompt = r.PromptCase switch
        {
            GenerateRequest.PromptOneofCase.PromptTokens => r.PromptTokens,
            GenerateRequest.PromptOneofCase.Text when r.Text.Length > 0 => tokenizer.Count(r.Text),
            GenerateRequest.PromptOneofCase.Text => throw Errors.Invalid("text: must not be empty"),
            _ => throw Errors.Invalid("prompt: set either text or prompt_tokens"),
        };
        if (prompt < 1 || prompt > maxContext)
        {
            string field = r.PromptCase == GenerateRequest.PromptOneofCase.Text ? "text" : "prompt_tokens";
            throw Errors.Invalid($"{field}: {prompt} tokens, must be between 1 and the model's context of {maxContext} tokens");
        }

        long max = r.HasMaxTokens ? r.MaxTokens : _server.DefaultMaxTokens;
        if (max < 1 || max > maxContext)
        {
            throw Errors.Invalid($"max_tokens: must be between 1 and the model's context of {maxContext} tokens, got {max}");
        }

        if (r.MinTokens < 0 || r.MinTokens > max)
        {
            throw Errors.Invalid($"min_tokens: must be between 0 and max_tokens {max}, got {r.MinTokens}");
        }

        if (r.Stop.Count > MaxStopSequences)
        {
            throw Errors.Invalid($"stop: at most {MaxStopSequences} sequences, got {r.Stop.Count}");
        }

        foreach (string stop in r.Stop)
        {
            if (stop.Length is 0 or > MaxStopLength)
            {
                throw Errors.Invalid($"stop: each sequence must be 1 to {MaxStopLength} characters, got one of {stop.Length}");
            }
        }

        return (prompt, max);
    }

    /// <summary>
    /// Sends every token that is due as one message, then the completion. Injected aborts and stalls act at half
    /// the target length; a stop sequence ends the turn early and frees its KV.
    /// </summary>
    private async Task Stream(
        GenerateRequest request,
        string requestId,
        GenerateSink sink,
        TokenText.Stream text,
        long target,
        string? failure,
        IServerStreamWriter<GenerateResponse> responseStream,
        CancellationToken ct)
    {
        long failAt = failure is FailureKinds.Abort or FailureKinds.Stall ? Math.Max(1, target / 2) : -1;
        var reader = sink.Reader;
        var chunkText = new StringBuilder();
        var tail = new StringBuilder();
        long sent = 0;
        bool stopped = false;
        while (await reader.WaitToReadAsync(ct))
        {
            var chunk = new TokenChunk();
            RequestResult? result = null;
            double oldest = double.NaN;
            bool failNow = false;
            while (!failNow && result is null && reader.TryRead(out var item))
            {
                if (item.Result is not null)
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
                chunk.TokenOffsets.Add(ProtoMapping.Seconds(item.Time - sink.ArrivalTime));
                oldest = double.IsNaN(oldest) ? item.Time : oldest;
                sent++;
                failNow = sent == failAt;
                if (request.Stop.Count > 0 && CutAtStop(request, chunkText, tail))
                {
                    // The stop sequence ends the turn as end-of-sequence would: the session keeps its KV.
                    stopped = true;
                    host.Engine.Stop(requestId);
                }
            }

            if (chunk.TokenIds.Count > 0)
            {
                chunk.Text = chunkText.ToString();
                chunkText.Clear();
                KeepTail(tail, chunk.Text);
                chunk.CompletionTokens = sent;
                host.Metrics.ObserveStreamLag(host.Clock.Now - oldest);
                await responseStream.WriteAsync(new GenerateResponse { RequestId = requestId, Chunk = chunk }, ct);
            }

            if (failNow && failure == FailureKinds.Abort)
            {
                host.Engine.Cancel(requestId);
                Log.RequestEnded(logger, requestId, $"injected abort after {sent} tokens");
                throw new RpcException(new Status(StatusCode.Internal, $"injected failure (abort): the stream broke after {sent} tokens"));
            }

            if (failNow && failure == FailureKinds.Stall)
            {
                // The engine goes on producing; the client sees nothing until the stall ends, then the backlog at once.
                await Task.Delay(host.Clock.ToWall(failureOptions.Value.StallSeconds), host.Time, ct);
            }

            if (result is not null)
            {
                await Complete(request, requestId, result, sent, responseStream, ct);
                return;
            }
        }

        throw new RpcException(new Status(StatusCode.Internal, $"request {requestId}: the engine ended the stream without a result"));
    }

    private async Task Complete(
        GenerateRequest request,
        string requestId,
        RequestResult result,
        long sent,
        IServerStreamWriter<GenerateResponse> responseStream,
        CancellationToken ct)
    {
        if (result.FinishReason == Core.Engine.FinishReason.Cancelled)
        {
            Log.RequestEnded(logger, requestId, "aborted by Abort or CloseSession");
            throw new RpcException(new Status(StatusCode.Cancelled, $"request {requestId} was aborted (Abort or CloseSession) after {sent} tokens"));
        }

        var finish = result.FinishReason == Core.Engine.FinishReason.Stop ? Contracts.V1.FinishReason.Stop : Contracts.V1.FinishReason.Length;
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
        await responseStream.WriteAsync(new GenerateResponse { RequestId = requestId, Complete = complete }, ct);
        Log.RequestFinished(
            logger, requestId, request.SessionId, finish.ToString().ToLowerInvariant(), result.PromptTokens, result.CachedTokens,
            result.CacheState.ToString().ToLowerInvariant(), sent, result.TimeToFirstToken, result.QueueSeconds, result.SwapInSeconds,
            result.PrefillSeconds, result.DecodeSeconds, result.Preemptions);
    }

    /// <summary>
    /// Looks for a stop sequence in the text so far (the unsent chunk after the tail of what was sent); when
    /// found, cuts the chunk just before it, as OpenAI-style APIs leave the stop sequence out.
    /// </summary>
    private static bool CutAtStop(GenerateRequest request, StringBuilder chunk, StringBuilder sentTail)
    {
        string window = sentTail.ToString() + chunk;
        foreach (string stop in request.Stop)
        {
            int at = window.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0)
            {
                chunk.Length = Math.Max(0, at - sentTail.Length);
                return true;
            }
        }

        return false;
    }

    /// <summary>Keeps the last characters sent, which a stop sequence could still straddle.</summary>
    private static void KeepTail(StringBuilder sentTail, string sent)
    {
        sentTail.Append(sent);
        if (sentTail.Length > MaxStopLength)
        {
            sentTail.Remove(0, sentTail.Length - MaxStopLength);
        }
    }
}
