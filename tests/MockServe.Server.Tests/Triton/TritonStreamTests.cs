using System.Buffers.Binary;

using Google.Protobuf;

using Grpc.Core;

using MockServe.Contracts.Inference;
using MockServe.Contracts.V1;
using MockServe.Server.Tests.Integration;

using static MockServe.Server.Tests.Triton.TritonTensors;

namespace MockServe.Server.Tests.Triton;

/// <summary>ModelStreamInfer on the real server: decoupled streaming, the final flag, in-band errors, sessions, cancellation.</summary>
[Collection(TestServer.Collection)]
public class TritonStreamTests
{
    private const string Model = "yi-34b";

    // o200k_base counts "hello world" as 2 tokens and each further " hello world" as 2 more.
    private static readonly string Prompt50K = string.Join(" ", Enumerable.Repeat("hello world", 25_000));

    private static GRPCInferenceService.GRPCInferenceServiceClient Client(TestServer server) => new(server.Channel);

    /// <summary>A vLLM-backend request with every input in raw_input_contents; null leaves an input out.</summary>
    private static ModelInferRequest Request(
        string id, string prompt, bool? stream = true, string? sampling = "{\"max_tokens\": 12, \"ignore_eos\": true}", bool? exclude = null, string model = Model)
    {
        var request = new ModelInferRequest { ModelName = model, Id = id };
        void Add(string name, string datatype, ByteString raw)
        {
            request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = datatype, Shape = { 1 } });
            request.RawInputContents.Add(raw);
        }

        Add("text_input", "BYTES", Element(prompt));
        if (stream is { } s)
        {
            Add("stream", "BOOL", Bool(s));
        }

        if (sampling is not null)
        {
            Add("sampling_parameters", "BYTES", Element(sampling));
        }

        if (exclude is { } e)
        {
            Add("exclude_input_in_output", "BOOL", Bool(e));
        }

        return request;
    }

    private static ModelInferRequest With(ModelInferRequest request, string name, InferParameter value)
    {
        request.Parameters.Add(name, value);
        return request;
    }

    private static string Text(ModelInferResponse response, string output = "text_output")
    {
        int index = response.Outputs.Select(o => o.Name).ToList().IndexOf(output);
        Assert.True(index >= 0, $"no {output} in the response");
        return Decode(response.RawOutputContents[index]);
    }

    private static uint UInt32(ModelInferResponse response, string output)
    {
        int index = response.Outputs.Select(o => o.Name).ToList().IndexOf(output);
        Assert.True(index >= 0, $"no {output} in the response");
        return BinaryPrimitives.ReadUInt32LittleEndian(response.RawOutputContents[index].Span);
    }

    private static bool IsFinal(ModelStreamInferResponse response) => response.InferResponse.Parameters["triton_final_response"].BoolParam;

    /// <summary>Writes the requests, ends the client's side, and reads every response until the server ends the stream.</summary>
    private static async Task<List<ModelStreamInferResponse>> StreamAsync(TestServer server, params ModelInferRequest[] requests)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = Client(server).ModelStreamInfer(cancellationToken: timeout.Token);
        foreach (var request in requests)
        {
            await call.RequestStream.WriteAsync(request, timeout.Token);
        }

        await call.RequestStream.CompleteAsync();
        var responses = new List<ModelStreamInferResponse>();
        await foreach (var response in call.ResponseStream.ReadAllAsync(timeout.Token))
        {
            responses.Add(response);
        }

        return responses;
    }

    [Fact]
    public async Task ModelStreamInfer_Streaming_NewTextPerResponseAndTheFinalFlagOnTheLast()
    {
        await using var server = await TestServer.StartAsync();

        var responses = await StreamAsync(server, Request("s-1", "Tell me a story"));
        var generated = await server.GenerateAsync(new GenerateRequest { RequestId = "s-1", Text = "Tell me a story", MaxTokens = 12, IgnoreEos = true });

        Assert.All(responses, r => Assert.Equal(("", Model, "1", "s-1"), (r.ErrorMessage, r.InferResponse.ModelName, r.InferResponse.ModelVersion, r.InferResponse.Id)));
        Assert.Equal([.. Enumerable.Repeat(false, responses.Count - 1), true], responses.Select(IsFinal));
        // Streamed responses carry only new text: the prompt is not repeated, and together they are the generation.
        Assert.Equal(generated.Text, string.Concat(responses.Select(r => Text(r.InferResponse))));
        var last = responses[^1].InferResponse.Parameters;
        Assert.Equal(12, last["completion_tokens"].Int64Param);
        Assert.Equal(generated.Complete.Usage.PromptTokens, last["prompt_tokens"].Int64Param);
        Assert.Equal(("length", "new"), (last["finish_reason"].StringParam, last["cache_state"].StringParam));
    }

    [Fact]
    public async Task ModelStreamInfer_EmptyFinalResponseAsked_TheFlagComesOnAResponseWithoutOutputs()
    {
        await using var server = await TestServer.StartAsync();

        var responses = await StreamAsync(server, With(Request("e-1", "Hi"), "triton_enable_empty_final_response", new InferParameter { BoolParam = true }));

        Assert.True(responses.Count >= 2, $"{responses.Count} responses");
        Assert.All(responses[..^1], r => Assert.False(IsFinal(r)));
        Assert.All(responses[..^1], r => Assert.Single(r.InferResponse.Outputs));
        Assert.True(IsFinal(responses[^1]));
        Assert.Empty(responses[^1].InferResponse.Outputs);
        Assert.Equal(12, responses[^1].InferResponse.Parameters["completion_tokens"].Int64Param);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task ModelStreamInfer_StreamFalse_OneResponseWithTheWholeText(bool? exclude, bool prompted)
    {
        await using var server = await TestServer.StartAsync();

        var responses = await StreamAsync(server, Request("w-1", "Once upon a time", stream: false, exclude: exclude));
        var generated = await server.GenerateAsync(new GenerateRequest { RequestId = "w-1", Text = "Once upon a time", MaxTokens = 12, IgnoreEos = true });

        var response = Assert.Single(responses);
        Assert.True(IsFinal(response));
        // Not streaming, the vLLM backend puts the prompt first unless exclude_input_in_output is true.
        Assert.Equal((prompted ? "Once upon a time" : "") + generated.Text, Text(response.InferResponse));
    }

    [Fact]
    public async Task ModelStreamInfer_TwoRequestsOnOneStream_InterleaveInOrderAndEachEnds()
    {
        await using var server = await TestServer.StartOnFakeClockAsync();
        string sampling = "{\"max_tokens\": 20, \"ignore_eos\": true}";

        var responses = await server.DriveAsync(StreamAsync(server, Request("b-1", "First", sampling: sampling), Request("b-2", "Second", sampling: sampling)), step: 0.01);

        var first = responses.Select((r, i) => (r, i)).Where(x => x.r.InferResponse.Id == "b-1").ToList();
        var second = responses.Select((r, i) => (r, i)).Where(x => x.r.InferResponse.Id == "b-2").ToList();
        Assert.Equal(responses.Count, first.Count + second.Count);
        Assert.True(IsFinal(first[^1].r) && IsFinal(second[^1].r));
        Assert.Equal(2, responses.Count(IsFinal));
        // Both decode in the same batched steps: the second's tokens arrive before the first has finished.
        Assert.True(second[0].i < first[^1].i, $"b-2 began at response {second[0].i}, after b-1 ended at {first[^1].i}");
        Assert.Equal(20, first[^1].r.InferResponse.Parameters["completion_tokens"].Int64Param);
        Assert.Equal(20, second[^1].r.InferResponse.Parameters["completion_tokens"].Int64Param);
    }

    [Fact]
    public async Task ModelStreamInfer_UnknownModelThenAGoodRequest_InBandErrorAndTheStreamGoesOn()
    {
        await using var server = await TestServer.StartAsync();

        var responses = await StreamAsync(server, Request("x-1", "Hi", model: "gpt-9"), Request("x-2", "Hi"));

        var error = Assert.Single(responses, r => r.ErrorMessage.Length > 0);
        Assert.Equal("x-1", error.InferResponse.Id);
        Assert.Equal("NOT_FOUND: model 'gpt-9' is not served here; this server serves 'yi-34b' (Server:TritonModelName)", error.ErrorMessage);
        Assert.True(IsFinal(responses[^1]));
        Assert.Equal("x-2", responses[^1].InferResponse.Id);
    }

    [Theory]
    [InlineData("exclude", "INVALID_ARGUMENT: exclude_input_in_output: false is not allowed when streaming (stream is true); send true or leave it out")]
    [InlineData("sampling", "INVALID_ARGUMENT: sampling_parameters.max_tokens: must be a whole number, got \"many\"")]
    [InlineData("input", "INVALID_ARGUMENT: unexpected inference input 'prompt' for model; it takes text_input and the optional inputs of ModelConfig")]
    [InlineData("logprobs", "INVALID_ARGUMENT: return_logprobs: log probabilities and logits are not modelled by MockServe (it has no weights); send false or leave it out")]
    [InlineData("beams", "INVALID_ARGUMENT: beam_width: must be 1, got 4; MockServe models one sequence per request")]
    [InlineData("type", "INVALID_ARGUMENT: text_input: datatype 'INT32', expected BYTES")]
    [InlineData("session", "INVALID_ARGUMENT: parameters: session_id 'a' and sequence_id '7' name different sessions; send one of them")]
    public async Task ModelStreamInfer_BadRequest_InBandInvalidArgumentNamingTheInput(string bad, string message)
    {
        await using var server = await TestServer.StartAsync();
        var request = bad switch
        {
            "exclude" => Request("v-1", "Hi", exclude: false),
            "sampling" => Request("v-1", "Hi", sampling: "{\"max_tokens\": \"many\"}"),
            "session" => With(With(Request("v-1", "Hi"), "session_id", new InferParameter { StringParam = "a" }), "sequence_id", new InferParameter { Int64Param = 7 }),
            _ => Request("v-1", "Hi"),
        };
        switch (bad)
        {
            case "input":
                request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "prompt", Datatype = "BYTES", Shape = { 1 } });
                request.RawInputContents.Add(Element("x"));
                break;
            case "logprobs":
                request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "return_logprobs", Datatype = "BOOL", Shape = { 1 } });
                request.RawInputContents.Add(Bool(true));
                break;
            case "beams":
                request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "beam_width", Datatype = "INT32", Shape = { 1 } });
                request.RawInputContents.Add(ByteString.CopyFrom(4, 0, 0, 0));
                break;
            case "type":
                request.Inputs[0].Datatype = "INT32";
                break;
        }

        var responses = await StreamAsync(server, request, Request("v-2", "Hi"));

        Assert.Equal(message, Assert.Single(responses, r => r.InferResponse.Id == "v-1").ErrorMessage);
        Assert.True(IsFinal(responses[^1]));
    }

    [Fact]
    public async Task ModelStreamInfer_QueueFullThenCancelled_InBandResourceExhaustedWithRetryAndAllKvFreed()
    {
        // One 50K user fills the A100 and the queue holds one more: the third is refused. On a fake clock nothing
        // finishes until the test moves time, which it never does; cancelling the stream then ends both others.
        await using var server = await TestServer.StartOnFakeClockAsync(("Engine:MaxWaiting", "1"), ("Server:TimeScale", "0.05"));
        using var call = Client(server).ModelStreamInfer();
        string sampling = "{\"max_tokens\": 100, \"ignore_eos\": true}";
        foreach (string id in new[] { "q-1", "q-2", "q-3" })
        {
            await call.RequestStream.WriteAsync(Request(id, Prompt50K, sampling: sampling));
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        var refused = call.ResponseStream.Current;
        Assert.Equal("q-3", refused.InferResponse.Id);
        Assert.StartsWith("RESOURCE_EXHAUSTED: ", refused.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("waiting queue is full: 1 of 1 requests waiting", refused.ErrorMessage);
        // 5 model seconds at scale 0.05.
        Assert.EndsWith("(retry after 250 ms)", refused.ErrorMessage, StringComparison.Ordinal);
        Assert.True((await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool.HbmKvBytesUsed > 0);

        call.Dispose();

        var pool = await server.WaitForPoolAsync(p => p.RequestsRunning == 0 && p.RequestsWaiting == 0);
        Assert.Equal(0, pool.HbmKvBytesUsed);
    }

    [Fact]
    public async Task ModelStreamInfer_CancelledMidGeneration_KvFreed()
    {
        await using var server = await TestServer.StartAsync();
        using var call = Client(server).ModelStreamInfer();
        await call.RequestStream.WriteAsync(Request("c-1", "Hello", sampling: "{\"max_tokens\": 5000, \"ignore_eos\": true}"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        Assert.False(IsFinal(call.ResponseStream.Current));

        call.Dispose();

        var pool = await server.WaitForPoolAsync(p => p.RequestsRunning == 0);
        Assert.Equal(0, pool.HbmKvBytesUsed);
    }

    [Fact]
    public async Task ModelStreamInfer_InjectedAbort_InBandInternalAfterHalfTheTokensAndKvFreed()
    {
        await using var server = await TestServer.StartAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = Client(server).ModelStreamInfer(new Metadata { { "x-mockserve-fail", "abort" } }, cancellationToken: timeout.Token);
        await call.RequestStream.WriteAsync(Request("f-1", "Hello", sampling: "{\"max_tokens\": 20, \"ignore_eos\": true}"), timeout.Token);
        await call.RequestStream.CompleteAsync();

        var responses = await call.ResponseStream.ReadAllAsync(timeout.Token).ToListAsync(timeout.Token);

        Assert.Equal("INTERNAL: injected failure (abort): the stream broke after 10 tokens", responses[^1].ErrorMessage);
        Assert.Equal("f-1", responses[^1].InferResponse.Id);
        Assert.All(responses[..^1], r => Assert.False(IsFinal(r)));
        Assert.Equal(0, (await server.Client.GetServerInfoAsync(new GetServerInfoRequest())).Pool.HbmKvBytesUsed);
    }

    [Fact]
    public async Task ModelStreamInfer_DrainRunsOut_InBandUnavailableThenTheStreamEnds()
    {
        await using var server = await TestServer.StartAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = Client(server).ModelStreamInfer(cancellationToken: timeout.Token);
        await call.RequestStream.WriteAsync(Request("d-1", "Hello", sampling: "{\"max_tokens\": 50000, \"ignore_eos\": true}"), timeout.Token);
        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        Assert.Equal(("d-1", ""), (call.ResponseStream.Current.InferResponse.Id, call.ResponseStream.Current.ErrorMessage));

        _ = server.Host.BeginDrain();
        await call.RequestStream.WriteAsync(Request("d-2", "Hello"), timeout.Token);
        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        while (call.ResponseStream.Current.InferResponse.Id == "d-1")
        {
            Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        }

        var refused = call.ResponseStream.Current;
        server.Host.EndDrain();
        var rest = new List<ModelStreamInferResponse>();
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(timeout.Token))
            {
                rest.Add(call.ResponseStream.Current);
            }
        });

        Assert.Equal(("d-2", "UNAVAILABLE: the server is shutting down: no new requests are accepted"), (refused.InferResponse.Id, refused.ErrorMessage));
        Assert.StartsWith("UNAVAILABLE: server shutting down: its drain ended before request d-1 finished", rest.Single(r => r.ErrorMessage.Length > 0).ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal("server shutting down: its drain ended while the stream was open", ex.Status.Detail);
    }

    [Fact]
    public async Task ModelStreamInfer_SequenceIdOnOneStreamAndAcrossStreams_LaterTurnsFindTheHistoryHot()
    {
        await using var server = await TestServer.StartAsync();
        var sequence = new InferParameter { Int64Param = 4242 };
        string turn1 = "You are a helpful assistant. Tell me about the sea.";

        // Turn 2 on the same stream, sent after turn 1's final response: the whole conversation, as chat clients resend it.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = Client(server).ModelStreamInfer(cancellationToken: timeout.Token);
        await call.RequestStream.WriteAsync(With(Request("t-1", turn1), "sequence_id", sequence), timeout.Token);
        var first = new List<ModelStreamInferResponse>();
        while (first.Count == 0 || !IsFinal(first[^1]))
        {
            Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
            first.Add(call.ResponseStream.Current);
        }

        string turn2 = turn1 + string.Concat(first.Select(r => Text(r.InferResponse))) + " And the mountains?";
        await call.RequestStream.WriteAsync(With(Request("t-2", turn2), "sequence_id", sequence), timeout.Token);
        await call.RequestStream.CompleteAsync();
        var second = new List<ModelStreamInferResponse>();
        await foreach (var response in call.ResponseStream.ReadAllAsync(timeout.Token))
        {
            second.Add(response);
        }

        // Turn 3 on a new stream, naming the session by session_id: the same session as sequence_id 4242.
        string turn3 = turn2 + string.Concat(second.Select(r => Text(r.InferResponse))) + " Thanks.";
        var third = await StreamAsync(server, With(Request("t-3", turn3), "session_id", new InferParameter { StringParam = "4242" }));

        Assert.Equal("new", first[^1].InferResponse.Parameters["cache_state"].StringParam);
        foreach (var turn in new[] { second[^1], third[^1] })
        {
            var parameters = turn.InferResponse.Parameters;
            Assert.Equal("hot", parameters["cache_state"].StringParam);
            Assert.InRange(parameters["cached_tokens"].Int64Param, 1, parameters["prompt_tokens"].Int64Param - 1);
        }
    }

    [Fact]
    public async Task ModelStreamInfer_SequenceEnd_ClosesTheSessionAfterTheTurn()
    {
        await using var server = await TestServer.StartAsync();
        var request = With(Request("z-1", "Hello"), "sequence_id", new InferParameter { Uint64Param = 77 });
        request.Parameters.Add("sequence_end", new InferParameter { BoolParam = true });

        var responses = await StreamAsync(server, request);

        Assert.True(IsFinal(responses[^1]));
        var pool = await server.WaitForPoolAsync(p => p.RequestsRunning == 0);
        Assert.Equal((0, 0L), (pool.SessionsTotal, pool.HbmKvBytesUsed));
    }

    [Fact]
    public async Task ModelStreamInfer_TensorRtLlmInputsRawAndContents_HonourMaxTokens()
    {
        await using var server = await TestServer.StartAsync();
        var raw = new ModelInferRequest
        {
            ModelName = Model,
            Id = "r-1",
            Inputs =
            {
                new ModelInferRequest.Types.InferInputTensor { Name = "text_input", Datatype = "BYTES", Shape = { 1, 1 } },
                new ModelInferRequest.Types.InferInputTensor { Name = "max_tokens", Datatype = "INT32", Shape = { 1, 1 } },
                new ModelInferRequest.Types.InferInputTensor { Name = "ignore_eos", Datatype = "BOOL", Shape = { 1, 1 } },
                new ModelInferRequest.Types.InferInputTensor { Name = "stream", Datatype = "BOOL", Shape = { 1, 1 } },
                new ModelInferRequest.Types.InferInputTensor { Name = "temperature", Datatype = "FP32", Shape = { 1, 1 } },
            },
            RawInputContents = { Element("Hello"), ByteString.CopyFrom(7, 0, 0, 0), Bool(true), Bool(true), ByteString.CopyFrom(0, 0, 0, 0) },
        };
        var contents = new ModelInferRequest
        {
            ModelName = Model,
            Id = "r-2",
            Inputs =
            {
                new ModelInferRequest.Types.InferInputTensor
                {
                    Name = "text_input", Datatype = "BYTES", Shape = { 1 }, Contents = new InferTensorContents { BytesContents = { ByteString.CopyFromUtf8("Hello") } },
                },
                new ModelInferRequest.Types.InferInputTensor { Name = "max_tokens", Datatype = "INT32", Shape = { 1 }, Contents = new InferTensorContents { IntContents = { 9 } } },
                new ModelInferRequest.Types.InferInputTensor { Name = "min_length", Datatype = "INT32", Shape = { 1 }, Contents = new InferTensorContents { IntContents = { 9 } } },
                new ModelInferRequest.Types.InferInputTensor { Name = "stream", Datatype = "BOOL", Shape = { 1 }, Contents = new InferTensorContents { BoolContents = { true } } },
            },
        };

        var responses = await StreamAsync(server, raw, contents);

        Assert.DoesNotContain(responses, r => r.ErrorMessage.Length > 0);
        Assert.Equal(7, responses.Single(r => r.InferResponse.Id == "r-1" && IsFinal(r)).InferResponse.Parameters["completion_tokens"].Int64Param);
        Assert.Equal(9, responses.Single(r => r.InferResponse.Id == "r-2" && IsFinal(r)).InferResponse.Parameters["completion_tokens"].Int64Param);
    }

    [Fact]
    public async Task ModelStreamInfer_StopWords_EndTheTurnBeforeThem()
    {
        await using var server = await TestServer.StartAsync(("Server:TokenText", "echo"));
        var request = Request("w-1", "alpha beta gamma delta", sampling: null);
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "max_tokens", Datatype = "INT32", Shape = { 1 } });
        request.RawInputContents.Add(ByteString.CopyFrom(40, 0, 0, 0));
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "ignore_eos", Datatype = "BOOL", Shape = { 1 } });
        request.RawInputContents.Add(Bool(true));
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "stop_words", Datatype = "BYTES", Shape = { 2 } });
        request.RawInputContents.Add(ByteString.CopyFrom([.. Element("zeta"), .. Element("gamma")]));

        var responses = await StreamAsync(server, request);

        Assert.Equal(" alpha beta ", string.Concat(responses.Select(r => Text(r.InferResponse))));
        Assert.Equal("stop", responses[^1].InferResponse.Parameters["finish_reason"].StringParam);
    }

    [Fact]
    public async Task ModelStreamInfer_ReturnInputs_FinishReasonAndTokenCountsPerResponse()
    {
        await using var server = await TestServer.StartAsync();
        var request = Request("o-1", "Hello");
        foreach (string name in new[] { "return_finish_reason", "return_num_input_tokens", "return_num_output_tokens" })
        {
            request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = "BOOL", Shape = { 1 } });
            request.RawInputContents.Add(Bool(true));
        }

        var responses = (await StreamAsync(server, request)).Select(r => r.InferResponse).ToList();

        // num_output_tokens counts each response's new tokens; finish_reason is Python's None until the end.
        Assert.Equal(12, responses.Sum(r => UInt32(r, "num_output_tokens")));
        Assert.All(responses[..^1], r => Assert.Equal("None", Text(r, "finish_reason")));
        Assert.Equal("length", Text(responses[^1], "finish_reason"));
        Assert.Equal(responses[^1].Parameters["prompt_tokens"].Int64Param, UInt32(responses[^1], "num_input_tokens"));
    }

    [Fact]
    public async Task ModelStatistics_AfterSuccessesAndAFailure_CountsAndDurationsThatAddUp()
    {
        await using var server = await TestServer.StartAsync();
        var before = (await Client(server).ModelStatisticsAsync(new ModelStatisticsRequest())).ModelStats.Single();

        await StreamAsync(server, Request("m-1", "Hello"), Request("m-2", "Hi", exclude: false), Request("m-3", "Hey", stream: false));
        await Client(server).ModelInferAsync(Request("m-4", "Yo", stream: false));
        var stats = (await Client(server).ModelStatisticsAsync(new ModelStatisticsRequest { Name = Model, Version = "1" })).ModelStats.Single();

        Assert.Equal((Model, "1"), (stats.Name, stats.Version));
        var s = stats.InferenceStats;
        Assert.Equal(3UL, s.Success.Count - before.InferenceStats.Success.Count);
        Assert.Equal(1UL, s.Fail.Count - before.InferenceStats.Fail.Count);
        Assert.Equal((s.Success.Count, s.Success.Count), (stats.InferenceCount, stats.ExecutionCount));
        Assert.Equal([s.Success.Count, s.Success.Count, s.Success.Count, s.Success.Count], new[] { s.Queue.Count, s.ComputeInput.Count, s.ComputeInfer.Count, s.ComputeOutput.Count });
        // Each success is its queue, its prompt's way into HBM and its decode (each rounded to the nanosecond).
        Assert.InRange((long)s.Success.Ns - (long)(s.Queue.Ns + s.ComputeInput.Ns + s.ComputeInfer.Ns), -3 * (long)s.Success.Count, 3 * (long)s.Success.Count);
        Assert.True(s.ComputeInfer.Ns > 0 && s.ComputeInput.Ns > 0);
        Assert.InRange(DateTimeOffset.FromUnixTimeMilliseconds((long)stats.LastInference), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
    }
}
