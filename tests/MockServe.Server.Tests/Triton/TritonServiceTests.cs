using Grpc.Core;

using MockServe.Contracts.Inference;
using MockServe.Server.Tests.Integration;

namespace MockServe.Server.Tests.Triton;

/// <summary>inference.GRPCInferenceService on the real server, beside mockserve.v1 on the same port.</summary>
[Collection(TestServer.Collection)]
public class TritonServiceTests
{
    // The default model profile's id (Presets.DefaultModelId), which the service uses when Server:TritonModelName is empty.
    private const string DefaultModel = "yi-34b";

    private static GRPCInferenceService.GRPCInferenceServiceClient Client(TestServer server) => new(server.Channel);

    /// <summary>The warm-up runs after the server starts; readiness waits for it (at most 10 s).</summary>
    private static async Task WaitReady(TestServer server)
    {
        for (int i = 0; i < 500 && !server.Host.IsReady; i++)
        {
            await Task.Delay(20);
        }

        Assert.True(server.Host.IsReady, "the server did not finish its warm-up in 10 s");
    }

    [Fact]
    public async Task ServerLive_Running_True()
    {
        await using var server = await TestServer.StartAsync();

        var live = await Client(server).ServerLiveAsync(new ServerLiveRequest());

        Assert.True(live.Live);
    }

    [Fact]
    public async Task ServerReady_WarmedUp_True()
    {
        await using var server = await TestServer.StartAsync();
        await WaitReady(server);

        var ready = await Client(server).ServerReadyAsync(new ServerReadyRequest());

        Assert.True(ready.Ready);
    }

    [Fact]
    public async Task ServerReady_Draining_FalseAndModelNotReady()
    {
        await using var server = await TestServer.StartAsync();
        await WaitReady(server);
        var client = Client(server);

        _ = server.Host.BeginDrain();
        var ready = await client.ServerReadyAsync(new ServerReadyRequest());
        var modelReady = await client.ModelReadyAsync(new ModelReadyRequest { Name = DefaultModel });
        var live = await client.ServerLiveAsync(new ServerLiveRequest());

        Assert.False(ready.Ready);
        Assert.False(modelReady.Ready);
        Assert.True(live.Live);
    }

    [Fact]
    public async Task ModelReady_ServedModel_True()
    {
        await using var server = await TestServer.StartAsync();
        await WaitReady(server);

        var ready = await Client(server).ModelReadyAsync(new ModelReadyRequest { Name = DefaultModel, Version = "1" });

        Assert.True(ready.Ready);
    }

    [Fact]
    public async Task ServerMetadata_Always_MockserveWithItsVersionAndExtensions()
    {
        await using var server = await TestServer.StartAsync();

        var metadata = await Client(server).ServerMetadataAsync(new ServerMetadataRequest());

        Assert.Equal("mockserve", metadata.Name);
        Assert.Equal(typeof(Server.Hosting.MockServeApp).Assembly.GetName().Version!.ToString(3), metadata.Version);
        Assert.Equal(["model_configuration", "statistics", "parameters", "sequence"], metadata.Extensions);
    }

    [Fact]
    public async Task ModelMetadata_DefaultName_VllmAndTensorRtLlmInputsAndTheOutputs()
    {
        await using var server = await TestServer.StartAsync();

        var metadata = await Client(server).ModelMetadataAsync(new ModelMetadataRequest { Name = DefaultModel });

        Assert.Equal(DefaultModel, metadata.Name);
        Assert.Equal(["1"], metadata.Versions);
        var inputs = metadata.Inputs.Select(t => $"{t.Name} {t.Datatype} [{string.Join(",", t.Shape)}]").ToList();
        // The vLLM backend's first, then TensorRT-LLM's (a sample of each kind).
        Assert.Equal(["text_input BYTES [1]", "stream BOOL [1]", "sampling_parameters BYTES [1]", "exclude_input_in_output BOOL [1]"], inputs[..4]);
        Assert.Contains("return_num_output_tokens BOOL [1]", inputs);
        Assert.Contains("max_tokens INT32 [1]", inputs);
        Assert.Contains("stop_words BYTES [-1]", inputs);
        Assert.Contains("random_seed UINT64 [1]", inputs);
        Assert.Contains("temperature FP32 [1]", inputs);
        Assert.Equal(
            ["text_output BYTES [-1]", "finish_reason BYTES [-1]", "num_input_tokens UINT32 [1]", "num_output_tokens UINT32 [1]"],
            metadata.Outputs.Select(t => $"{t.Name} {t.Datatype} [{string.Join(",", t.Shape)}]"));
    }

    [Fact]
    public async Task ModelConfig_ConfiguredName_DecoupledVllmModelWithoutBatching()
    {
        await using var server = await TestServer.StartAsync(("Server:TritonModelName", "llm"));

        var config = (await Client(server).ModelConfigAsync(new ModelConfigRequest { Name = "llm" })).Config;

        Assert.Equal("llm", config.Name);
        Assert.Equal("vllm", config.Backend);
        Assert.Equal(0, config.MaxBatchSize);
        Assert.True(config.ModelTransactionPolicy.Decoupled);
        var inputs = config.Input.Select(i => $"{i.Name} {i.DataType} [{string.Join(",", i.Dims)}] {(i.Optional ? "optional" : "required")}").ToList();
        Assert.Equal(
            ["text_input TypeString [1] required", "stream TypeBool [1] optional", "sampling_parameters TypeString [1] optional", "exclude_input_in_output TypeBool [1] optional"],
            inputs[..4]);
        Assert.Contains("max_tokens TypeInt32 [1] optional", inputs);
        Assert.Single(inputs, i => i.EndsWith("required", StringComparison.Ordinal));
        Assert.Equal(
            ["text_output TypeString [-1]", "finish_reason TypeString [-1]", "num_input_tokens TypeUint32 [1]", "num_output_tokens TypeUint32 [1]"],
            config.Output.Select(o => $"{o.Name} {o.DataType} [{string.Join(",", o.Dims)}]"));
    }

    [Fact]
    public async Task RepositoryIndex_Ready_TheOneModelReady()
    {
        await using var server = await TestServer.StartAsync(("Server:TritonModelName", "llm"));
        await WaitReady(server);

        var index = await Client(server).RepositoryIndexAsync(new RepositoryIndexRequest { Ready = true });

        var model = Assert.Single(index.Models);
        Assert.Equal(("llm", "1", "READY", ""), (model.Name, model.Version, model.State, model.Reason));
    }

    [Theory]
    [InlineData("ModelReady")]
    [InlineData("ModelMetadata")]
    [InlineData("ModelConfig")]
    public async Task ModelRpc_UnknownModel_NotFoundNamingIt(string rpc)
    {
        await using var server = await TestServer.StartAsync(("Server:TritonModelName", "llm"));
        var client = Client(server);

        var ex = await Assert.ThrowsAsync<RpcException>(() => rpc switch
        {
            "ModelReady" => client.ModelReadyAsync(new ModelReadyRequest { Name = "gpt-9" }).ResponseAsync,
            "ModelMetadata" => client.ModelMetadataAsync(new ModelMetadataRequest { Name = "gpt-9" }).ResponseAsync,
            _ => (Task)client.ModelConfigAsync(new ModelConfigRequest { Name = "gpt-9" }).ResponseAsync,
        });

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal("model 'gpt-9' is not served here; this server serves 'llm' (Server:TritonModelName)", ex.Status.Detail);
    }

    [Fact]
    public async Task ModelMetadata_UnknownVersion_NotFoundNamingIt()
    {
        await using var server = await TestServer.StartAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client(server).ModelMetadataAsync(new ModelMetadataRequest { Name = DefaultModel, Version = "2" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal("model 'yi-34b' has no version '2'; it has version 1", ex.Status.Detail);
    }

    [Fact]
    public async Task UndeclaredRpc_RepositoryModelLoad_Unimplemented()
    {
        await using var server = await TestServer.StartAsync();
        var bytes = Marshallers.Create(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.Unary, "inference.GRPCInferenceService", "RepositoryModelLoad", bytes, bytes);

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            server.Channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(), []).ResponseAsync);

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }
}
