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
using MockServe.Server.Protocol;
using MockServe.Server.Security;
using MockServe.Server.Text;

namespace MockServe.Server.Services;

/// <summary>
/// mockserve.v1.InferenceService: translates between proto messages and the engine. The engine decides when
/// each token is due; this class only streams what is due, one writer per response stream.
/// </summary>
[BindServiceMethod(typeof(InferenceGrpcService), nameof(BindService))]
internal sealed class InferenceGrpcService(
    EngineHost host,
    IPromptTokenizer tokenizer,
    TokenText tokenText,
    WordIds wordIds,
    FailureInjector failures,
    IOptions<ServerOptions> serverOptions,
    IOptions<FailureInjectionOptions> failureOptions,
    ILogger<InferenceGrpcService> logger) : InferenceService.InferenceServiceBase
{
    // Model seconds a client refused for a full queue (or the session limit) is asked to wait before retrying.
    private const double RetryAfterModelSeconds = 5;

    private readonly ServerOptions _server = serverOptions.Value;

    /// <summary>The generated binding, with request parsers that answer a body that does not parse with INVALID_ARGUMENT.</summary>
    /// <remarks>grpc-dotnet binds the overrides of the virtual methods declared on this method's second parameter type.</remarks>
    public static void BindService(ServiceBinderBase binder, InferenceService.InferenceServiceBase service) =>
        InferenceService.BindService(new ParseGuardBinder(binder), service);

    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateResponse> responseStream, ServerCallContext context)
    {
        var client = ClientIdentity.Of(context);
        string requestId = request.RequestId.Length > 0 ? request.RequestId : RequestIds.NewServerId();
        string? sessionId = request.SessionId.Length > 0 ? client.Scope(request.SessionId) : null;
        // Routed first, as a router in front of real replicas forwards every call: the replica's metrics count its
        // refusals too. A call without a session goes by its request id (round-robin and least-loaded ignore the key).
        var lane = host.WarmupLaneFor(context.RequestHeaders) ?? host.Route(sessionId ?? client.Scope(requestId));
        var (engine, metrics) = (lane.Engine, lane.Metrics);
        bool warmup = host.IsWarmup(lane);
        if (host.IsDraining)
        {
            metrics.CountRequest(RequestOutcomes.RejectedUnavailable);
            throw Errors.Unavailable("the server is shutting down: no new requests are accepted");
        }

        string? failure;
        GenerateInput input;
        try
        {
            // The warm-up draws no failure: it would shift the seeded sequence that reproduces a run's failures.
            failure = warmup ? null : failures.Decide(context.RequestHeaders);
            // A text prompt outside a session is encoded for automatic prefix caching; a session holds its own history.
            input = GenerateValidation.Validate(
                request,
                tokenizer,
                _server.DefaultMaxTokens,
                _server.MaxPromptCharacters,
                engine.Limits.MaxContext,
                context.CancellationToken,
                encode: sessionId is null && engine.PrefixCaching);
        }
        catch (RpcException)
        {
            metrics.CountRequest(RequestOutcomes.RejectedInvalid);
            throw;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client left, or its deadline passed, while the prompt was counted. grpc-dotnet sets the call's status
            // to DEADLINE_EXCEEDED before it cancels the token for a deadline; anything but an RpcException it would
            // log as a handler error and record as UNKNOWN.
            metrics.CountRequest(RequestOutcomes.Cancelled);
            bool deadline = context.Status.StatusCode == StatusCode.DeadlineExceeded;
            throw new RpcException(new Status(
                deadline ? StatusCode.DeadlineExceeded : StatusCode.Cancelled,
                deadline ? "the deadline passed while the prompt was counted" : "the call was cancelled while the prompt was counted"));
        }

        if (failure == FailureKinds.Refuse)
        {
            metrics.CountRequest(RequestOutcomes.FailedInjected);
            throw Errors.Unavailable("injected failure (refuse): the request was refused before it started");
        }

        string? prompt = request.PromptCase == GenerateRequest.PromptOneofCase.Text ? request.Text : null;
        var text = request.RequestId.Length > 0 ? tokenText.For(requestId, prompt) : tokenText.ForAnonymous(prompt);
        long max = input.MaxTokens;
        // The modelled end-of-sequence, drawn before the engine checks max_tokens: a bad count is refused there.
        long target = request.IgnoreEos || max < 1 ? max : text.Between(Math.Clamp(request.MinTokens, 1, max), max);
        var prefix = input.PromptIds is { } ids ? new PromptPrefix(ids, engine.Options.BlockSize, text, wordIds) : null;
        // The ids are hashed now; the call lives as long as its stream, and a long prompt's ids need not.
        input = input with { PromptIds = null };
        var submitted = await engine.SubmitAsync(new InferenceRequest
        {
            RequestId = client.Scope(requestId),
            SessionId = sessionId,
            PromptTokens = input.PromptTokens,
            MaxTokens = max,
            StopAfterTokens = target < max ? target : null,
            PrefixHashes = prefix?.Hashes,
            HashesWithOutput = prefix is null ? null : prefix.WithOutput,
        });
        if (submitted.Handle is not { } handle)
        {
            metrics.CountRequest(submitted.Reason switch
            {
                RejectReason.QueueFull => RequestOutcomes.RejectedQueueFull,
                RejectReason.SessionLimit => RequestOutcomes.RejectedSessionLimit,
                RejectReason.Stopped => RequestOutcomes.RejectedUnavailable,
                _ => RequestOutcomes.RejectedInvalid,
            });
            string message = client.Unscope(GenerateValidation.ToApiMessage(submitted.Field, submitted.Problem, input));
            throw Errors.FromRefusal(submitted.Reason, message, engine.ToWall(RetryAfterModelSeconds));
        }

        if (sessionId is not null && !warmup)
        {
            host.Placed(lane, sessionId, input.PromptTokens);
        }

        host.StreamStarted();
        try
        {
            // Whatever ends the call (the client, its deadline, a failed write) ends the request and frees its KV.
            using var cancel = context.CancellationToken.Register(handle.Cancel);
            var stream = new GenerateStream(
                lane, host.Time, handle, requestId, text, new StopSequenceMatcher(request.Stop), target, failure, failureOptions.Value.StallSeconds, _server.LogRequests, logger);
            await stream.RunAsync(responseStream, context.CancellationToken, host.DrainEnded);
        }
        finally
        {
            if (!handle.IsFinished)
            {
                handle.Cancel();
            }

            host.StreamEnded();
        }
    }

    public override async Task<AbortResponse> Abort(AbortRequest request, ServerCallContext context)
    {
        if (request.RequestId.Length == 0)
        {
            throw Errors.Invalid("request_id: must not be empty");
        }

        return await host.CancelAsync(ClientIdentity.Of(context).Scope(request.RequestId))
            ? new AbortResponse()
            : throw Errors.NotFound($"request_id: no request '{request.RequestId}' is in flight");
    }

    public override async Task<CloseSessionResponse> CloseSession(CloseSessionRequest request, ServerCallContext context)
    {
        if (request.SessionId.Length == 0)
        {
            throw Errors.Invalid("session_id: must not be empty");
        }

        return await host.CloseSessionAsync(ClientIdentity.Of(context).Scope(request.SessionId))
            ? new CloseSessionResponse()
            : throw Errors.NotFound($"session_id: no session '{request.SessionId}' (never seen, closed or expired)");
    }

    public override async Task<GetServerInfoResponse> GetServerInfo(GetServerInfoRequest request, ServerCallContext context)
    {
        // During the warm-up its own calls see the warm-up lane alone, as if it were the server.
        var lanes = host.WarmupLaneFor(context.RequestHeaders) is { } warmup ? [warmup] : host.Replicas;
        var engine = lanes[0].Engine;
        var cost = engine.CostModel;
        var deployment = host.Deployment;
        var pools = await Task.WhenAll(lanes.Select(l => l.Engine.SnapshotAsync()));
        var response = new GetServerInfoResponse
        {
            Model = deployment.Model.ToProto(),
            Gpu = deployment.Gpu.ToProto(),
            TensorParallel = deployment.TensorParallel,
            Scheduler = engine.SchedulerName,
            TimeScale = engine.TimeScale,
            Capacity = new Capacity
            {
                WeightBytes = cost.WeightBytes,
                KvCapacityBytes = cost.KvCapacityBytes,
                KvBytesPerToken = cost.KvBytesPerToken,
                KvCapacityTokens = engine.Limits.HbmCapacityTokens,
                ReferenceContextTokens = _server.ReferenceContextTokens,
                MaxConcurrentUsers = cost.MaxConcurrentUsers(_server.ReferenceContextTokens),
            },
            Pool = ProtoMapping.Sum(pools.Select(p => p.ToProto())),
            Version = typeof(InferenceGrpcService).Assembly.GetName().Version?.ToString(3) ?? "",
            // Port 0 binds an ephemeral port that /metrics never matches (MockServeApp maps it by the configured port).
            MetricsPort = _server.MetricsPort,
            Router = host.RouterName,
            WeightBits = deployment.WeightBytesPerParameter * 8,
            Efficiency = deployment.Efficiency.ToProto(),
        };
        for (int i = 0; i < pools.Length; i++)
        {
            response.Replicas.Add(new ReplicaInfo { Index = lanes[i].Replica, Pool = pools[i].ToProto() });
        }

        return response;
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

        long decode = request.DecodeTokens == 0 ? 1 : request.DecodeTokens;
        if (RequestLimits.CheckEstimate(model, request.ContextTokens, decode) is { } error)
        {
            throw Errors.Invalid(error.ToString());
        }

        var deployment = served with
        {
            Model = model,
            Gpu = gpu,
            TensorParallel = request.TensorParallel == 0 ? served.TensorParallel : request.TensorParallel,
        };
        return Task.FromResult(new GpuCostModel(deployment).Summarize(request.ContextTokens, decode).ToProto());
    }
}
