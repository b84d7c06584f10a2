using Google.Protobuf;

using Grpc.Core;

using MockServe.Contracts.Inference;
using MockServe.Contracts.V1;
using MockServe.Server.Tests.Integration;

using static MockServe.Server.Tests.Triton.TritonTensors;

namespace MockServe.Server.Tests.Triton;

/// <summary>ModelInfer (unary) on the real server: the vLLM backend's inputs in both BYTES encodings.</summary>
[Collection(TestServer.Collection)]
public class TritonInferTests
{
    private const string Model = "yi-34b";

    private static GRPCInferenceService.GRPCInferenceServiceClient Client(TestServer server) => new(server.Channel);

    private static ModelInferRequest Raw(string id, string prompt, string sampling, bool exclude) => new()
    {
        ModelName = Model,
        Id = id,
        Inputs =
        {
            new ModelInferRequest.Types.InferInputTensor { Name = "text_input", Datatype = "BYTES", Shape = { 1 } },
            new ModelInferRequest.Types.InferInputTensor { Name = "stream", Datatype = "BOOL", Shape = { 1 } },
            new ModelInferRequest.Types.InferInputTensor { Name = "sampling_parameters", Datatype = "BYTES", Shape = { 1 } },
            new ModelInferRequest.Types.InferInputTensor { Name = "exclude_input_in_output", Datatype = "BOOL", Shape = { 1 } },
        },
        RawInputContents = { Element(prompt), ByteString.CopyFrom(0), Element(sampling), ByteString.CopyFrom(exclude ? (byte)1 : (byte)0) },
    };

    [Fact]
    public async Task ModelInfer_RawInputs_TheTextGenerateGivesTheSameRequest()
    {
        await using var server = await TestServer.StartAsync();

        var response = await Client(server).ModelInferAsync(Raw("t-1", "Tell me a story", "{\"max_tokens\": 12, \"ignore_eos\": true}", exclude: true));
        var generated = await server.GenerateAsync(new GenerateRequest { RequestId = "t-1", Text = "Tell me a story", MaxTokens = 12, IgnoreEos = true });

        Assert.Equal(("yi-34b", "1", "t-1"), (response.ModelName, response.ModelVersion, response.Id));
        var output = Assert.Single(response.Outputs);
        Assert.Equal(("text_output", "BYTES", 1L), (output.Name, output.Datatype, Assert.Single(output.Shape)));
        Assert.Equal(12, generated.Tokens);
        Assert.Equal(generated.Text, Decode(Assert.Single(response.RawOutputContents)));
    }

    [Fact]
    public async Task ModelInfer_BytesContentsWithoutExclude_PromptThenGeneration()
    {
        await using var server = await TestServer.StartAsync();
        var request = new ModelInferRequest
        {
            ModelName = Model,
            Inputs =
            {
                new ModelInferRequest.Types.InferInputTensor
                {
                    Name = "text_input",
                    Datatype = "BYTES",
                    Shape = { 1 },
                    Contents = new InferTensorContents { BytesContents = { ByteString.CopyFromUtf8("Hello") } },
                },
                new ModelInferRequest.Types.InferInputTensor
                {
                    Name = "sampling_parameters",
                    Datatype = "BYTES",
                    Shape = { 1 },
                    Contents = new InferTensorContents { BytesContents = { ByteString.CopyFromUtf8("{\"max_tokens\":\"4\",\"ignore_eos\":true}") } },
                },
            },
        };

        var response = await Client(server).ModelInferAsync(request);

        string text = Decode(Assert.Single(response.RawOutputContents));
        Assert.StartsWith("Hello", text, StringComparison.Ordinal);
        Assert.True(text.Length > "Hello".Length, $"no generated text after the prompt: '{text}'");
    }

    [Fact]
    public async Task ModelInfer_OnFakeClock_AnswersOnlyWhenTheLastTokenIsDue()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();
        var call = Client(server).ModelInferAsync(Raw("t-2", "Hi", "{\"max_tokens\": 50, \"ignore_eos\": true}", exclude: true)).ResponseAsync;

        // Model time stands still until the test moves it: no token is due, so no response may have come.
        await Task.WhenAny(call, Task.Delay(200));
        Assert.False(call.IsCompleted);
        var response = await server.DriveAsync(call, step: 0.05);

        Assert.False(string.IsNullOrEmpty(Decode(Assert.Single(response.RawOutputContents))));
    }

    [Theory]
    [InlineData("{\"max_tokens\": ", "sampling_parameters: not JSON")]
    [InlineData("[1]", "sampling_parameters: must be a JSON object")]
    [InlineData("{\"max_tokens\": 1.5}", "sampling_parameters.max_tokens: must be a whole number, got 1.5")]
    [InlineData("{\"max_tokens\": 0}", "max_tokens: must be between 1 and the model's context of 200000 tokens, got 0")]
    public async Task ModelInfer_BadSamplingParameters_InvalidArgumentNamingIt(string sampling, string message)
    {
        await using var server = await TestServer.StartAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => Client(server).ModelInferAsync(Raw("", "Hi", sampling, exclude: true)).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith(message, ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelInfer_NoTextInput_InvalidArgument()
    {
        await using var server = await TestServer.StartAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => Client(server).ModelInferAsync(new ModelInferRequest { ModelName = Model }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("text_input: the model's one required input is missing", ex.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_UnknownModel_NotFound()
    {
        await using var server = await TestServer.StartAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client(server).ModelInferAsync(new ModelInferRequest { ModelName = "gpt-9" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.StartsWith("model 'gpt-9' is not served here", ex.Status.Detail, StringComparison.Ordinal);
    }
}
