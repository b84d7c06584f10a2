using Grpc.Core;

using MockServe.Contracts.Inference;
using MockServe.Server.Hosting;
using MockServe.Server.Protocol;
using MockServe.Server.Security;

namespace MockServe.Server.Services.Triton;

/// <summary>
/// inference.GRPCInferenceService (KServe v2 with Triton's extensions) beside mockserve.v1 on the same port, so
/// Triton's clients, perf_analyzer and GenAI-Perf find a server, a ready decoupled model and its configuration, and
/// generate through the same engine and Generate path as mockserve.v1 (validation, failure injection, metrics,
/// drain). The rpcs not declared in protos/inference answer UNIMPLEMENTED.
/// </summary>
[BindServiceMethod(typeof(TritonGrpcService), nameof(BindService))]
internal sealed class TritonGrpcService(EngineHost host, TritonModel model, IServiceProvider services) : GRPCInferenceService.GRPCInferenceServiceBase
{
    /// <summary>The server's name in ServerMetadata.</summary>
    public const string ServerName = "mockserve";

    private static readonly string ServerVersion = typeof(TritonGrpcService).Assembly.GetName().Version?.ToString(3) ?? "";

    /// <summary>The generated binding, with request parsers that answer a body that does not parse with INVALID_ARGUMENT.</summary>
    public static void BindService(ServiceBinderBase binder, GRPCInferenceService.GRPCInferenceServiceBase service) =>
        GRPCInferenceService.BindService(new ParseGuardBinder(binder), service);

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = IsReady });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        Find(request.Name, request.Version);
        return Task.FromResult(new ModelReadyResponse { Ready = IsReady });
    }

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        // Triton's names for what is served: ModelConfig, ModelStatistics, request parameters, and sequence_id sessions.
        Task.FromResult(new ServerMetadataResponse
        {
            Name = ServerName,
            Version = ServerVersion,
            Extensions = { "model_configuration", "statistics", "parameters", "sequence" },
        });

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(Find(request.Name, request.Version).Metadata());

    public override Task<ModelConfigResponse> ModelConfig(ModelConfigRequest request, ServerCallContext context) =>
        Task.FromResult(new ModelConfigResponse { Config = Find(request.Name, request.Version).Config() });

    public override Task<RepositoryIndexResponse> RepositoryIndex(RepositoryIndexRequest request, ServerCallContext context)
    {
        var response = new RepositoryIndexResponse();
        bool ready = IsReady;
        // Triton lists a model that is loading as UNAVAILABLE; the warm-up and the drain are this server's equivalents.
        if (ready || !request.Ready)
        {
            response.Models.Add(new RepositoryIndexResponse.Types.ModelIndex
            {
                Name = model.Name,
                Version = TritonModel.Version,
                State = ready ? "READY" : "UNAVAILABLE",
                Reason = ready ? "" : host.IsDraining ? "the server is shutting down" : "the server is warming up",
            });
        }

        return Task.FromResult(response);
    }

    /// <summary>
    /// The whole generation in one response, sent when its last token is due: the request runs as a mockserve.v1
    /// Generate call (its validation, failure injection, metrics and drain), whose chunks are gathered here.
    /// </summary>
    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        Find(request.ModelName, request.ModelVersion);
        var triton = Read(request) with { Stream = false, EmptyFinal = false };
        var generation = new TritonGeneration(model.Name, request.Id, triton, send: null);
        await RunAsync(triton, generation, context);
        return generation.Final ?? throw new RpcException(new Status(StatusCode.Internal, $"request '{request.Id}' ended without a response"));
    }

    /// <summary>
    /// Decoupled streaming: every request on the stream is one generation, run beside the others, its responses
    /// written as its tokens fall due; a request that fails gets its error in-band (error_message) and the stream
    /// goes on. When the client ends its side, the stream ends once every generation has; when the call is
    /// cancelled, every generation on it is cancelled and frees its KV.
    /// </summary>
    public override async Task ModelStreamInfer(
        IAsyncStreamReader<ModelInferRequest> requestStream, IServerStreamWriter<ModelStreamInferResponse> responseStream, ServerCallContext context)
    {
        var stream = new SharedStream(responseStream);
        var running = new Running();
        // A stream the client keeps open must not hold the server's shutdown: reading stops when the drain runs out.
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, host.DrainEnded);
        bool reset = false;
        try
        {
            while (await requestStream.MoveNext(reading.Token))
            {
                running.Add(ServeAsync(requestStream.Current, stream, context));
            }
        }
        catch (OperationCanceledException) when (reading.IsCancellationRequested)
        {
            // The client went away (its generations see the same token, end and free their KV), or the drain ran out
            // (they end with UNAVAILABLE in-band).
        }
        catch (IOException)
        {
            // The client reset the stream, which Kestrel may report before it cancels the call's token: the
            // generations end when it does. Unhandled, this would be logged as the handler's error with a stack trace.
            reset = true;
        }

        await running.AllEndedAsync();
        if (reset || context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "the stream was cancelled; its generations were cancelled with it"));
        }

        if (host.DrainEnded.IsCancellationRequested)
        {
            throw Errors.Unavailable("server shutting down: its drain ended while the stream was open");
        }
    }

    public override Task<ModelStatisticsResponse> ModelStatistics(ModelStatisticsRequest request, ServerCallContext context)
    {
        // An empty name asks for every model: this one.
        var served = request.Name.Length == 0 ? model : Find(request.Name, request.Version);
        return Task.FromResult(new ModelStatisticsResponse { ModelStats = { served.Statistics.Snapshot(served.Name, TritonModel.Version) } });
    }

    /// <summary>One request of a stream, from its parse to its last response or its in-band error. Never throws.</summary>
    private async Task ServeAsync(ModelInferRequest request, SharedStream stream, ServerCallContext context)
    {
        // Runs on the reading loop until the engine takes the request, so requests reach the engine in stream order.
        try
        {
            Find(request.ModelName, request.ModelVersion);
        }
        catch (RpcException ex)
        {
            await stream.ErrorAsync(request, ex, context.CancellationToken);
            return;
        }

        try
        {
            var triton = Read(request);
            var generation = new TritonGeneration(
                model.Name, request.Id, triton, (response, ct) => stream.WriteAsync(new ModelStreamInferResponse { InferResponse = response }, ct));
            await RunAsync(triton, generation, context);
        }
        catch (RpcException ex) when (!context.CancellationToken.IsCancellationRequested)
        {
            await stream.ErrorAsync(request, ex, context.CancellationToken);
        }
        catch (Exception ex) when (context.CancellationToken.IsCancellationRequested && ex is RpcException or OperationCanceledException or InvalidOperationException)
        {
            // The call is over: nobody is left to tell.
        }
    }

    /// <summary>The request's inputs; a request the model refuses to read counts as a failure, as in Triton.</summary>
    private TritonRequest Read(ModelInferRequest request)
    {
        try
        {
            return TritonInputs.Read(request);
        }
        catch (RpcException)
        {
            model.Statistics.Failed(0);
            throw;
        }
    }

    /// <summary>
    /// Runs one request as a Generate call and keeps the model's statistics; closes its session afterwards when the
    /// request ended it (sequence_end). A refusal or failure counts against the model and is rethrown.
    /// </summary>
    private async Task RunAsync(TritonRequest triton, TritonGeneration generation, ServerCallContext context)
    {
        double started = host.Now;
        try
        {
            await ActivatorUtilities.CreateInstance<InferenceGrpcService>(services).Generate(triton.Generate, generation, context);
        }
        catch (RpcException) when (!context.CancellationToken.IsCancellationRequested)
        {
            model.Statistics.Failed(host.Now - started);
            throw;
        }

        if (generation.Completion?.Timing is { } timing)
        {
            model.Statistics.Succeeded(timing, host.Time.GetUtcNow());
        }

        if (triton.EndSession && triton.Generate.SessionId.Length > 0)
        {
            // Triton's sequence_end: the sequence's state goes with it.
            await host.CloseSessionAsync(ClientIdentity.Of(context).Scope(triton.Generate.SessionId));
        }
    }

    /// <summary>Ready as the gRPC health service reports it: not while the server warms up or drains.</summary>
    private bool IsReady => host.IsReady && !host.IsDraining;

    /// <summary>The response stream a ModelStreamInfer call's generations share: one write at a time.</summary>
    private sealed class SharedStream(IServerStreamWriter<ModelStreamInferResponse> stream)
    {
        private readonly SemaphoreSlim _gate = new(1, 1);

        public async Task WriteAsync(ModelStreamInferResponse response, CancellationToken ct)
        {
            await _gate.WaitAsync(ct);
            try
            {
                await stream.WriteAsync(response, ct);
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>
        /// The request's error in-band, as Triton sends it: error_message (the status, its detail, and the retry delay
        /// a refusal asks for), with the request's id, on a stream that stays open. Never throws: if the call is over
        /// nobody is left to tell.
        /// </summary>
        public async Task ErrorAsync(ModelInferRequest request, RpcException ex, CancellationToken ct)
        {
            string message = $"{StatusNames.Of(ex.StatusCode)}: {ex.Status.Detail}";
            if (ex.Trailers.GetValue("grpc-retry-pushback-ms") is { } retry)
            {
                message += $" (retry after {retry} ms)";
            }

            try
            {
                await WriteAsync(
                    new ModelStreamInferResponse
                    {
                        ErrorMessage = message,
                        InferResponse = new ModelInferResponse { ModelName = request.ModelName, ModelVersion = request.ModelVersion, Id = request.Id },
                    },
                    ct);
            }
            catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or InvalidOperationException or IOException)
            {
                // The call ended first.
            }
        }
    }

    /// <summary>Counts a stream's generations in flight, so the call ends only after the last of them.</summary>
    private sealed class Running
    {
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // The reading loop holds one count until the client ends its side.
        private int _count = 1;

        public void Add(Task generation)
        {
            Interlocked.Increment(ref _count);
            generation.ContinueWith(_ => Done(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        public Task AllEndedAsync()
        {
            Done();
            return _ended.Task;
        }

        private void Done()
        {
            if (Interlocked.Decrement(ref _count) == 0)
            {
                _ended.TrySetResult();
            }
        }
    }

    /// <summary>The served model when the name (and version, if given) is its own; NOT_FOUND naming what was asked for otherwise.</summary>
    private TritonModel Find(string name, string version)
    {
        if (!string.Equals(name, model.Name, StringComparison.Ordinal))
        {
            throw Errors.NotFound($"model '{name}' is not served here; this server serves '{model.Name}' (Server:TritonModelName)");
        }

        if (version.Length > 0 && version != TritonModel.Version)
        {
            throw Errors.NotFound($"model '{name}' has no version '{version}'; it has version {TritonModel.Version}");
        }

        return model;
    }
}
