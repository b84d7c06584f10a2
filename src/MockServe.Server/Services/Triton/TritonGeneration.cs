using System.Text;

using Google.Protobuf;

using Grpc.Core;

using MockServe.Contracts.Inference;
using MockServe.Contracts.V1;

namespace MockServe.Server.Services.Triton;

/// <summary>
/// Turns one Generate stream into Triton responses, as the vLLM backend sends them from a decoupled model: streaming,
/// one response per chunk of due tokens with only the new text, the last flagged <c>triton_final_response</c>;
/// otherwise one final response with the whole text. The final response also carries the turn's counts and cache
/// state as response parameters. Generate writes from one task at a time.
/// </summary>
/// <param name="send">Where each response goes as it is made: the ModelStreamInfer stream, or nothing (ModelInfer reads <see cref="Final"/>).</param>
internal sealed class TritonGeneration(string model, string id, TritonRequest request, Func<ModelInferResponse, CancellationToken, Task>? send)
    : IServerStreamWriter<GenerateResponse>
{
    private readonly StringBuilder _text = new();
    private long _tokens;
    private long _sentTokens;

    /// <summary>The turn's completion, once Generate has written it.</summary>
    public GenerateComplete? Completion { get; private set; }

    /// <summary>The response that ended the generation (for ModelInfer, the whole answer).</summary>
    public ModelInferResponse? Final { get; private set; }

    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(GenerateResponse message) => WriteAsync(message, CancellationToken.None);

    // The interface's default for this overload refuses a token that can be cancelled; the stream passes the call's.
    public async Task WriteAsync(GenerateResponse message, CancellationToken cancellationToken)
    {
        if (message.EventCase == GenerateResponse.EventOneofCase.Chunk)
        {
            _text.Append(message.Chunk.Text);
            _tokens = message.Chunk.CompletionTokens;
            // The last chunk waits for the completion that follows it at once, so that it can carry the final flag.
            if (request.Stream && !message.Chunk.Last)
            {
                await SendAsync(Response(final: false, data: true, complete: null), cancellationToken);
            }

            return;
        }

        Completion = message.Complete;
        if (!request.Stream && request.PrependInput)
        {
            _text.Insert(0, request.Generate.Text);
        }

        if (request.Stream && request.EmptyFinal)
        {
            // Triton's empty final response: the data goes out unflagged, then the flag on a response without outputs.
            if (_text.Length > 0 || _tokens > _sentTokens)
            {
                await SendAsync(Response(final: false, data: true, complete: message.Complete), cancellationToken);
            }

            await SendAsync(Final = Response(final: true, data: false, complete: message.Complete), cancellationToken);
            return;
        }

        await SendAsync(Final = Response(final: true, data: true, complete: message.Complete), cancellationToken);
    }

    private async Task SendAsync(ModelInferResponse response, CancellationToken ct)
    {
        if (send is not null)
        {
            await send(response, ct);
        }
    }

    /// <summary>A response with the text gathered since the last one (when <paramref name="data"/>), then resets it.</summary>
    private ModelInferResponse Response(bool final, bool data, GenerateComplete? complete)
    {
        var response = new ModelInferResponse { ModelName = model, ModelVersion = TritonModel.Version, Id = id };
        response.Parameters.Add("triton_final_response", new InferParameter { BoolParam = final });
        if (data)
        {
            Output(response, "text_output", "BYTES", TritonInputs.Encode(_text.ToString()));
            if (request.Outputs.HasFlag(TritonOutputs.FinishReason))
            {
                // The vLLM backend writes Python's str() of the reason: "None" until the sequence has finished.
                Output(response, "finish_reason", "BYTES", TritonInputs.Encode(complete is null ? "None" : Reason(complete)));
            }

            if (request.Outputs.HasFlag(TritonOutputs.NumInputTokens) && complete is not null)
            {
                // The prompt is counted as the request is admitted, which the responses before the last do not see.
                Output(response, "num_input_tokens", "UINT32", UInt32(complete.Usage.PromptTokens));
            }

            if (request.Outputs.HasFlag(TritonOutputs.NumOutputTokens))
            {
                Output(response, "num_output_tokens", "UINT32", UInt32(_tokens - _sentTokens));
            }

            _text.Clear();
            _sentTokens = _tokens;
        }

        if (final && complete is not null)
        {
            response.Parameters.Add("finish_reason", new InferParameter { StringParam = Reason(complete) });
            response.Parameters.Add("prompt_tokens", new InferParameter { Int64Param = complete.Usage.PromptTokens });
            response.Parameters.Add("cached_tokens", new InferParameter { Int64Param = complete.Usage.CachedTokens });
            response.Parameters.Add("completion_tokens", new InferParameter { Int64Param = complete.Usage.CompletionTokens });
            response.Parameters.Add("cache_state", new InferParameter { StringParam = CacheStateName(complete.Timing.CacheState) });
        }

        return response;
    }

    private static void Output(ModelInferResponse response, string name, string datatype, ByteString raw)
    {
        response.Outputs.Add(new ModelInferResponse.Types.InferOutputTensor { Name = name, Datatype = datatype, Shape = { 1 } });
        response.RawOutputContents.Add(raw);
    }

    private static ByteString UInt32(long value)
    {
        byte[] bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)Math.Clamp(value, 0, uint.MaxValue));
        return ByteString.CopyFrom(bytes);
    }

    private static string Reason(GenerateComplete complete) => complete.FinishReason == Contracts.V1.FinishReason.Stop ? "stop" : "length";

    private static string CacheStateName(CacheState state) => state switch
    {
        CacheState.Hot => "hot",
        CacheState.Host => "host",
        CacheState.Miss => "miss",
        _ => "new",
    };
}
