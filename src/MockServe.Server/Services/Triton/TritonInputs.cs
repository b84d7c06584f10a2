using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

using Google.Protobuf;

using MockServe.Contracts.Inference;
using MockServe.Contracts.V1;

namespace MockServe.Server.Services.Triton;

/// <summary>What one Triton request asks for, read into the mockserve.v1 request that serves it.</summary>
/// <param name="Generate">The generation, validated later as any Generate request is.</param>
/// <param name="Stream">One response per chunk of due tokens; otherwise one response with the whole text.</param>
/// <param name="PrependInput">text_output starts with the prompt (the vLLM backend's default when not streaming).</param>
/// <param name="Outputs">The optional outputs asked for with the return_* inputs.</param>
/// <param name="EmptyFinal">triton_enable_empty_final_response: the final flag travels on a response of its own.</param>
/// <param name="EndSession">sequence_end: the session is closed once this request has finished.</param>
internal sealed record TritonRequest(
    GenerateRequest Generate, bool Stream, bool PrependInput, TritonOutputs Outputs, bool EmptyFinal, bool EndSession);

/// <summary>The vLLM backend's optional outputs, each asked for by its return_* input.</summary>
[Flags]
internal enum TritonOutputs
{
    None = 0,
    FinishReason = 1,
    NumInputTokens = 2,
    NumOutputTokens = 4,
}

/// <summary>
/// Reads the inputs of Triton's vLLM backend, and those of the TensorRT-LLM ensemble that shape a generation's
/// length, from a ModelInferRequest into a mockserve.v1 GenerateRequest. An input that is neither is refused, as
/// Triton refuses an input its model does not declare.
/// </summary>
internal static class TritonInputs
{
    /// <summary>Inputs that shape what is sampled, not how long it takes: accepted (the model declares them) and ignored.</summary>
    public static readonly IReadOnlyList<string> Ignored =
    [
        "bad_words", "end_id", "pad_id", "top_k", "top_p", "temperature", "length_penalty", "repetition_penalty",
        "presence_penalty", "frequency_penalty", "random_seed", "embedding_bias_words", "embedding_bias_weights",
    ];

    /// <summary>Inputs asking for outputs that a model without weights has nothing true to put in: refused when true.</summary>
    public static readonly IReadOnlyList<string> Unmodelled =
        ["return_cumulative_logprob", "return_logprobs", "return_log_probs", "return_context_logits", "return_generation_logits"];

    /// <summary>The TritonRequest for <paramref name="request"/>.</summary>
    /// <exception cref="Grpc.Core.RpcException">INVALID_ARGUMENT naming the input or parameter that cannot be read.</exception>
    public static TritonRequest Read(ModelInferRequest request)
    {
        var generate = new GenerateRequest { RequestId = request.Id };
        string? prompt = null;
        string? sampling = null;
        bool stream = false;
        bool? exclude = null;
        var outputs = TritonOutputs.None;
        for (int i = 0; i < request.Inputs.Count; i++)
        {
            var tensor = new Tensor(request, i);
            switch (tensor.Name)
            {
                case "text_input":
                    prompt = tensor.Text();
                    break;
                case "sampling_parameters":
                    sampling = tensor.Text();
                    break;
                case "stream":
                    stream = tensor.Bool();
                    break;
                case "exclude_input_in_output":
                    exclude = tensor.Bool();
                    break;
                case "return_finish_reason":
                    outputs |= tensor.Bool() ? TritonOutputs.FinishReason : 0;
                    break;
                case "return_num_input_tokens":
                    outputs |= tensor.Bool() ? TritonOutputs.NumInputTokens : 0;
                    break;
                case "return_num_output_tokens":
                    outputs |= tensor.Bool() ? TritonOutputs.NumOutputTokens : 0;
                    break;
                case "max_tokens":
                    generate.MaxTokens = tensor.Integer();
                    break;
                case "min_tokens" or "min_length":
                    generate.MinTokens = tensor.Integer();
                    break;
                case "ignore_eos":
                    generate.IgnoreEos = tensor.Bool();
                    break;
                case "stop_words":
                    generate.Stop.AddRange(tensor.Texts());
                    break;
                case "beam_width" or "num_return_sequences":
                    OneSequence(tensor.Name, tensor.Integer());
                    break;
                default:
                    if (Unmodelled.Contains(tensor.Name) && tensor.Bool())
                    {
                        throw Errors.Invalid($"{tensor.Name}: log probabilities and logits are not modelled by MockServe (it has no weights); send false or leave it out");
                    }
                    else if (!Unmodelled.Contains(tensor.Name) && !Ignored.Contains(tensor.Name))
                    {
                        throw Errors.Invalid($"unexpected inference input '{tensor.Name}' for model; it takes text_input and the optional inputs of ModelConfig");
                    }

                    break;
            }
        }

        generate.Text = prompt ?? throw Errors.Invalid("text_input: the model's one required input is missing");
        var parameters = new Parameters(request);
        if (sampling is not null)
        {
            Sampling(sampling, generate);
        }
        else
        {
            // Without the tensor the vLLM backend reads the same settings from the request's parameters.
            parameters.Sampling(generate);
        }

        // The vLLM backend streams only new text: it refuses to put the prompt in front of streamed responses.
        if (stream && exclude == false)
        {
            throw Errors.Invalid("exclude_input_in_output: false is not allowed when streaming (stream is true); send true or leave it out");
        }

        generate.SessionId = parameters.Session();
        return new TritonRequest(generate, stream, !(exclude ?? stream), outputs, parameters.Bool("triton_enable_empty_final_response"), parameters.Bool("sequence_end"));
    }

    /// <summary>A BYTES element as the protocol carries it: a 4-byte little-endian length, then that many bytes.</summary>
    public static ByteString Encode(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        byte[] element = new byte[4 + utf8.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(element, (uint)utf8.Length);
        utf8.CopyTo(element, 4);
        return ByteString.CopyFrom(element);
    }

    /// <summary>The vLLM backend's sampling_parameters JSON: max_tokens, min_tokens, ignore_eos, stop and n are honoured.</summary>
    private static void Sampling(string json, GenerateRequest generate)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Errors.Invalid("sampling_parameters: must be a JSON object");
            }

            foreach (var p in document.RootElement.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "max_tokens":
                        generate.MaxTokens = Whole(p);
                        break;
                    case "min_tokens":
                        generate.MinTokens = Whole(p);
                        break;
                    case "ignore_eos":
                        generate.IgnoreEos = p.Value.ValueKind == JsonValueKind.True
                            || (p.Value.ValueKind == JsonValueKind.String && bool.TryParse(p.Value.GetString(), out bool b) && b);
                        break;
                    case "stop":
                        if (p.Value.ValueKind == JsonValueKind.String)
                        {
                            generate.Stop.Add(p.Value.GetString());
                        }
                        else if (p.Value.ValueKind == JsonValueKind.Array)
                        {
                            generate.Stop.AddRange(p.Value.EnumerateArray().Select(s => s.GetString() ?? ""));
                        }

                        break;
                    case "n" or "best_of":
                        OneSequence($"sampling_parameters.{p.Name}", Whole(p));
                        break;
                    default:
                        // temperature, top_p and the rest shape no timing: accepted and ignored.
                        break;
                }
            }
        }
        catch (JsonException ex)
        {
            throw Errors.Invalid($"sampling_parameters: not JSON ({ex.Message})");
        }
        catch (InvalidOperationException ex)
        {
            throw Errors.Invalid($"sampling_parameters: {ex.Message}");
        }
    }

    private static void OneSequence(string name, long count)
    {
        if (count != 1)
        {
            throw Errors.Invalid($"{name}: must be 1, got {count}; MockServe models one sequence per request");
        }
    }

    /// <summary>A count, as a JSON number or (as Triton's clients often send it) a string of digits.</summary>
    private static long Whole(JsonProperty p) =>
        p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out long n) ? n
        : p.Value.ValueKind == JsonValueKind.String && long.TryParse(p.Value.GetString(), CultureInfo.InvariantCulture, out long s) ? s
        : throw Errors.Invalid($"sampling_parameters.{p.Name}: must be a whole number, got {p.Value.GetRawText()}");

    /// <summary>One input tensor and its elements, from raw_input_contents or from contents.</summary>
    private readonly struct Tensor(ModelInferRequest request, int index)
    {
        private ModelInferRequest.Types.InferInputTensor Input => request.Inputs[index];

        public string Name => Input.Name;

        /// <summary>The one element of a BYTES input.</summary>
        public string Text()
        {
            var texts = Texts();
            return texts.Count == 1
                ? texts[0]
                : throw Errors.Invalid($"{Name}: {texts.Count} elements; this model takes one per request (batch 1)");
        }

        /// <summary>Every element of a BYTES input (stop_words may hold several).</summary>
        public List<string> Texts()
        {
            Expect("BYTES");
            var texts = new List<string>();
            if (!HasRaw)
            {
                texts.AddRange((Input.Contents?.BytesContents ?? []).Select(b => b.ToStringUtf8()));
                return texts;
            }

            var raw = Raw().Span;
            while (raw.Length > 0)
            {
                uint length = raw.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(raw) : uint.MaxValue;
                if (length > raw.Length - 4)
                {
                    throw Errors.Invalid($"{Name}: raw_input_contents[{index}] is not a list of BYTES elements (each a 4-byte little-endian length, then that many bytes)");
                }

                texts.Add(Encoding.UTF8.GetString(raw.Slice(4, (int)length)));
                raw = raw[(4 + (int)length)..];
            }

            return texts;
        }

        public bool Bool()
        {
            Expect("BOOL");
            if (HasRaw)
            {
                var raw = Raw().Span;
                return raw.Length == 1 ? raw[0] != 0 : throw Errors.Invalid($"{Name}: raw_input_contents[{index}] holds {raw.Length} bytes, expected 1 (one BOOL)");
            }

            var contents = Input.Contents?.BoolContents;
            return contents is { Count: 1 } ? contents[0] : throw Errors.Invalid($"{Name}: {contents?.Count ?? 0} elements in contents.bool_contents, expected 1");
        }

        /// <summary>The one element of an integer input of any width, signed or not.</summary>
        public long Integer()
        {
            int width = Input.Datatype switch
            {
                "INT8" or "UINT8" => 1,
                "INT16" or "UINT16" => 2,
                "INT32" or "UINT32" => 4,
                "INT64" or "UINT64" => 8,
                _ => throw Errors.Invalid($"{Name}: datatype '{Input.Datatype}', expected an integer type (INT32 as the model declares, or another width)"),
            };
            bool signed = Input.Datatype[0] == 'I';
            if (HasRaw)
            {
                var raw = Raw().Span;
                if (raw.Length != width)
                {
                    throw Errors.Invalid($"{Name}: raw_input_contents[{index}] holds {raw.Length} bytes, expected {width} (one {Input.Datatype})");
                }

                return (width, signed) switch
                {
                    (1, true) => (sbyte)raw[0],
                    (1, false) => raw[0],
                    (2, true) => BinaryPrimitives.ReadInt16LittleEndian(raw),
                    (2, false) => BinaryPrimitives.ReadUInt16LittleEndian(raw),
                    (4, true) => BinaryPrimitives.ReadInt32LittleEndian(raw),
                    (4, false) => BinaryPrimitives.ReadUInt32LittleEndian(raw),
                    (8, true) => BinaryPrimitives.ReadInt64LittleEndian(raw),
                    _ => (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(raw), long.MaxValue),
                };
            }

            var c = Input.Contents ?? new InferTensorContents();
            IReadOnlyList<long> values = (width, signed) switch
            {
                (8, true) => c.Int64Contents,
                (8, false) => [.. c.Uint64Contents.Select(v => (long)Math.Min(v, long.MaxValue))],
                (_, true) => [.. c.IntContents.Select(v => (long)v)],
                _ => [.. c.UintContents.Select(v => (long)v)],
            };
            return values.Count == 1 ? values[0] : throw Errors.Invalid($"{Name}: {values.Count} elements in contents, expected 1 ({Input.Datatype})");
        }

        // raw_input_contents is all or nothing: when any input uses it, every input's elements are there.
        private bool HasRaw => request.RawInputContents.Count > 0;

        private ByteString Raw() =>
            index < request.RawInputContents.Count
                ? request.RawInputContents[index]
                : throw Errors.Invalid($"raw_input_contents: {request.RawInputContents.Count} entries for {request.Inputs.Count} inputs; each input needs its own");

        private void Expect(string datatype)
        {
            if (Input.Datatype != datatype)
            {
                throw Errors.Invalid($"{Name}: datatype '{Input.Datatype}', expected {datatype}");
            }
        }
    }

    /// <summary>The request's parameters: the session, Triton's flags, and sampling settings when no tensor carries them.</summary>
    private readonly struct Parameters(ModelInferRequest request)
    {
        public bool Bool(string name) => request.Parameters.TryGetValue(name, out var p) && p.ParameterChoiceCase switch
        {
            InferParameter.ParameterChoiceOneofCase.BoolParam => p.BoolParam,
            InferParameter.ParameterChoiceOneofCase.StringParam when bool.TryParse(p.StringParam, out bool b) => b,
            _ => throw Errors.Invalid($"parameters.{name}: must be a bool_param, got {p}"),
        };

        /// <summary>session_id or sequence_id (Triton's own session notion; 0 means none), as a string.</summary>
        public string Session()
        {
            string? session = Text("session_id");
            string? sequence = Text("sequence_id");
            if (session is not null && sequence is not null && session != sequence)
            {
                throw Errors.Invalid($"parameters: session_id '{session}' and sequence_id '{sequence}' name different sessions; send one of them");
            }

            string id = session ?? sequence ?? "";
            return id == "0" && sequence is not null ? "" : id;
        }

        public void Sampling(GenerateRequest generate)
        {
            if (Whole("max_tokens") is { } max)
            {
                generate.MaxTokens = max;
            }

            if (Whole("min_tokens") is { } min)
            {
                generate.MinTokens = min;
            }

            if (request.Parameters.ContainsKey("ignore_eos"))
            {
                generate.IgnoreEos = Bool("ignore_eos");
            }

            if (Text("stop") is { Length: > 0 } stop)
            {
                generate.Stop.Add(stop);
            }
        }

        private string? Text(string name) => !request.Parameters.TryGetValue(name, out var p) ? null : p.ParameterChoiceCase switch
        {
            InferParameter.ParameterChoiceOneofCase.StringParam => p.StringParam,
            InferParameter.ParameterChoiceOneofCase.Int64Param => p.Int64Param.ToString(CultureInfo.InvariantCulture),
            InferParameter.ParameterChoiceOneofCase.Uint64Param => p.Uint64Param.ToString(CultureInfo.InvariantCulture),
            _ => throw Errors.Invalid($"parameters.{name}: must be a string_param, int64_param or uint64_param, got {p}"),
        };

        private long? Whole(string name) => !request.Parameters.TryGetValue(name, out var p) ? null : p.ParameterChoiceCase switch
        {
            InferParameter.ParameterChoiceOneofCase.Int64Param => p.Int64Param,
            InferParameter.ParameterChoiceOneofCase.Uint64Param => (long)Math.Min(p.Uint64Param, long.MaxValue),
            InferParameter.ParameterChoiceOneofCase.StringParam when long.TryParse(p.StringParam, CultureInfo.InvariantCulture, out long v) => v,
            _ => throw Errors.Invalid($"parameters.{name}: must be a whole number (int64_param), got {p}"),
        };
    }
}
