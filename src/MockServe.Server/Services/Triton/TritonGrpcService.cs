using Grpc.Core;

using MockServe.Contracts.Inference;
using MockServe.Server.Hosting;
using MockServe.Server.Protocol;

namespace MockServe.Server.Services.Triton;

/// <summary>
/// inference.GRPCInferenceService (KServe v2 with Triton's extensions) beside mockserve.v1 on the same port, so
/// Triton's clients find a server, a ready decoupled model and its configuration. This increment answers the
/// health, metadata, configuration and repository rpcs and unary ModelInfer; streaming inference and statistics
/// answer UNIMPLEMENTED until the increments that bring them.
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
        // Only what this increment implements: the configuration extension (ModelConfig).
        Task.FromResult(new ServerMetadataResponse { Name = ServerName, Version = ServerVersion, Extensions = { "model_configuration" } });

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
        var (generate, excludeInput) = TritonInputs.Read(request);
        var gathered = new GatheringWriter();
        await ActivatorUtilities.CreateInstance<InferenceGrpcService>(services).Generate(generate, gathered, context);
        string text = excludeInput ? gathered.Text.ToString() : generate.Text + gathered.Text;
        return new ModelInferResponse
        {
            ModelName = model.Name,
            ModelVersion = TritonModel.Version,
            Id = request.Id,
            Outputs = { new ModelInferResponse.Types.InferOutputTensor { Name = "text_output", Datatype = "BYTES", Shape = { 1 } } },
            RawOutputContents = { TritonInputs.Encode(text) },
        };
    }

    public override Task ModelStreamInfer(
        IAsyncStreamReader<ModelInferRequest> requestStream, IServerStreamWriter<ModelStreamInferResponse> responseStream, ServerCallContext context) =>
        throw NotYet("ModelStreamInfer");

    public override Task<ModelStatisticsResponse> ModelStatistics(ModelStatisticsRequest request, ServerCallContext context) =>
        throw NotYet("ModelStatistics");

    /// <summary>Gathers a Generate stream's text; Generate writes from one task at a time.</summary>
    private sealed class GatheringWriter : IServerStreamWriter<Contracts.V1.GenerateResponse>
    {
        public System.Text.StringBuilder Text { get; } = new();

        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(Contracts.V1.GenerateResponse message) => WriteAsync(message, CancellationToken.None);

        // The interface's default for this overload refuses a token that can be cancelled; the stream passes the call's.
        public Task WriteAsync(Contracts.V1.GenerateResponse message, CancellationToken cancellationToken)
        {
            if (message.EventCase == Contracts.V1.GenerateResponse.EventOneofCase.Chunk)
            {
                Text.Append(message.Chunk.Text);
            }

            return Task.CompletedTask;
        }
    }

    /// <summary>Ready as the gRPC health service reports it: not while the server warms up or drains.</summary>
    private bool IsReady => host.IsReady && !host.IsDraining;

    private static RpcException NotYet(string rpc) => new(new Status(
        StatusCode.Unimplemented,
        $"inference.GRPCInferenceService/{rpc} is not implemented by MockServe yet; mockserve.v1.InferenceService/Generate serves generations"));

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
