using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

using Google.Protobuf;

using MockServe.Contracts.Inference;
using MockServe.Contracts.V1;

namespace MockServe.Server.Services.Triton;

/// <summary>
/// Reads the vLLM backend's inputs from a ModelInferRequest into a mockserve.v1 GenerateRequest, whose validation
/// (counts, limits, the context) then runs as for any other request.
/// </summary>
internal static class TritonInputs
{
    /// <summary>The GenerateRequest for <paramref name="request"/>, and whether text_output leaves the prompt out.</summary>
    /// <exception cref="Grpc.Core.RpcException">INVALID_ARGUMENT naming the input that cannot be read.</exception>
    public static (GenerateRequest Generate, bool ExcludeInput) Read(ModelInferRequest request)
    {
        string? prompt = null;
        string? sampling = null;
        bool exclude = false;
        for (int i = 0; i < request.Inputs.Count; i++)
        {
            var input = request.Inputs[i];
            switch (input.Name)
            {
                case "text_input":
                    prompt = Text(request, i);
                    break;
                case "sampling_parameters":
                    sampling = Text(request, i);
                    break;
                case "exclude_input_in_output":
                    exclude = Bool(request, i);
                    break;
                default:
                    // stream and anything else a client sends are accepted: one unary response has nothing to stream.
                    break;
            }
        }

        var generate = new GenerateRequest
        {
            Text = prompt ?? throw Errors.Invalid("text_input: the model's one required input is missing"),
            RequestId = request.Id,
        };
        if (sampling is not null)
        {
            Sampling(sampling, generate);
        }

        return (generate, exclude);
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

    /// <summary>The first element of BYTES input <paramref name="index"/>, from raw_input_contents or bytes_contents.</summary>
    private static string Text(ModelInferRequest request, int index)
    {
        string name = request.Inputs[index].Name;
        if (request.RawInputContents.Count > 0)
        {
            var raw = Raw(request, index).Span;
            uint length = raw.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(raw) : uint.MaxValue;
            if (length > raw.Length - 4)
            {
                throw Errors.Invalid($"{name}: raw_input_contents[{index}] is not a BYTES element (a 4-byte little-endian length, then that many bytes)");
            }

            return Encoding.UTF8.GetString(raw.Slice(4, (int)length));
        }

        var contents = request.Inputs[index].Contents?.BytesContents;
        return contents is { Count: > 0 } ? contents[0].ToStringUtf8() : throw Errors.Invalid($"{name}: no element in contents.bytes_contents");
    }

    private static bool Bool(ModelInferRequest request, int index)
    {
        if (request.RawInputContents.Count > 0)
        {
            var raw = Raw(request, index).Span;
            return raw.Length > 0 ? raw[0] != 0 : throw Errors.Invalid($"{request.Inputs[index].Name}: raw_input_contents[{index}] is empty");
        }

        var contents = request.Inputs[index].Contents?.BoolContents;
        return contents is { Count: > 0 } ? contents[0] : throw Errors.Invalid($"{request.Inputs[index].Name}: no element in contents.bool_contents");
    }

    private static ByteString Raw(ModelInferRequest request, int index) =>
        index < request.RawInputContents.Count
            ? request.RawInputContents[index]
            : throw Errors.Invalid($"raw_input_contents: {request.RawInputContents.Count} entries for {request.Inputs.Count} inputs; each input needs its own");

    /// <summary>The vLLM backend's sampling_parameters JSON: max_tokens, min_tokens, ignore_eos and stop are honoured.</summary>
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

    /// <summary>A count, as a JSON number or (as Triton's clients often send it) a string of digits.</summary>
    private static long Whole(JsonProperty p) =>
        p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out long n) ? n
        : p.Value.ValueKind == JsonValueKind.String && long.TryParse(p.Value.GetString(), System.Globalization.CultureInfo.InvariantCulture, out long s) ? s
        : throw Errors.Invalid($"sampling_parameters.{p.Name}: must be a whole number, got {p.Value.GetRawText()}");
}
