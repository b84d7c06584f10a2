using MockServe.Contracts.Inference;

namespace MockServe.Server.Services.Triton;

/// <summary>
/// The one model the Triton / KServe v2 service serves, described as Triton's vLLM backend describes an LLM: so
/// that perf_analyzer and GenAI-Perf (--backend vllm) find the inputs they send and see a decoupled model.
/// </summary>
internal sealed class TritonModel
{
    /// <summary>The only version: Triton numbers versions from 1, and clients that name none get the latest.</summary>
    public const string Version = "1";

    /// <summary>The vLLM backend's name in a model's configuration.</summary>
    public const string Backend = "vllm";

    // Triton's vLLM backend (model.py's auto_complete_config) declares its inputs with shape [1] and no batch
    // dimension (max_batch_size 0); the TensorRT-LLM ensemble's inputs follow, so that clients of either find what
    // they send. Only text_input is required. text_output has one element per response, of any length.
    private static readonly (string Name, DataType Type, long Dims)[] Inputs =
    [
        ("text_input", DataType.TypeString, 1),
        ("stream", DataType.TypeBool, 1),
        ("sampling_parameters", DataType.TypeString, 1),
        ("exclude_input_in_output", DataType.TypeBool, 1),
        ("return_finish_reason", DataType.TypeBool, 1),
        ("return_cumulative_logprob", DataType.TypeBool, 1),
        ("return_logprobs", DataType.TypeBool, 1),
        ("return_num_input_tokens", DataType.TypeBool, 1),
        ("return_num_output_tokens", DataType.TypeBool, 1),
        ("max_tokens", DataType.TypeInt32, 1),
        ("min_tokens", DataType.TypeInt32, 1),
        ("min_length", DataType.TypeInt32, 1),
        ("ignore_eos", DataType.TypeBool, 1),
        ("stop_words", DataType.TypeString, -1),
        ("bad_words", DataType.TypeString, -1),
        ("end_id", DataType.TypeInt32, 1),
        ("pad_id", DataType.TypeInt32, 1),
        ("top_k", DataType.TypeInt32, 1),
        ("top_p", DataType.TypeFp32, 1),
        ("temperature", DataType.TypeFp32, 1),
        ("length_penalty", DataType.TypeFp32, 1),
        ("repetition_penalty", DataType.TypeFp32, 1),
        ("presence_penalty", DataType.TypeFp32, 1),
        ("frequency_penalty", DataType.TypeFp32, 1),
        ("random_seed", DataType.TypeUint64, 1),
        ("beam_width", DataType.TypeInt32, 1),
        ("num_return_sequences", DataType.TypeInt32, 1),
        ("return_log_probs", DataType.TypeBool, 1),
        ("return_context_logits", DataType.TypeBool, 1),
        ("return_generation_logits", DataType.TypeBool, 1),
        ("embedding_bias_words", DataType.TypeString, -1),
        ("embedding_bias_weights", DataType.TypeFp32, -1),
    ];

    // text_output always; the others when a return_* input asks for them (the vLLM backend's additional outputs).
    private static readonly (string Name, DataType Type, long Dims)[] Outputs =
    [
        ("text_output", DataType.TypeString, -1),
        ("finish_reason", DataType.TypeString, -1),
        ("num_input_tokens", DataType.TypeUint32, 1),
        ("num_output_tokens", DataType.TypeUint32, 1),
    ];

    public TritonModel(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    public string Name { get; }

    /// <summary>Its cumulative request statistics (ModelStatistics).</summary>
    public TritonStatistics Statistics { get; } = new();

    /// <summary>The configuration's spelling of a type as the protocol spells it (TYPE_STRING is BYTES).</summary>
    public static string ProtocolType(DataType type) => type switch
    {
        DataType.TypeString => "BYTES",
        DataType.TypeBool => "BOOL",
        _ => type.ToString().ToUpperInvariant().Replace("TYPE", "", StringComparison.Ordinal),
    };

    public ModelMetadataResponse Metadata()
    {
        var response = new ModelMetadataResponse { Name = Name, Versions = { Version }, Platform = "" };
        foreach (var (name, type, dims) in Inputs)
        {
            response.Inputs.Add(new ModelMetadataResponse.Types.TensorMetadata { Name = name, Datatype = ProtocolType(type), Shape = { dims } });
        }

        foreach (var (name, type, dims) in Outputs)
        {
            response.Outputs.Add(new ModelMetadataResponse.Types.TensorMetadata { Name = name, Datatype = ProtocolType(type), Shape = { dims } });
        }

        return response;
    }

    public ModelConfig Config()
    {
        var config = new ModelConfig
        {
            Name = Name,
            Backend = Backend,
            MaxBatchSize = 0,
            ModelTransactionPolicy = new ModelTransactionPolicy { Decoupled = true },
        };
        foreach (var (name, type, dims) in Inputs)
        {
            config.Input.Add(new ModelInput { Name = name, DataType = type, Dims = { dims }, Optional = name != "text_input" });
        }

        foreach (var (name, type, dims) in Outputs)
        {
            config.Output.Add(new ModelOutput { Name = name, DataType = type, Dims = { dims } });
        }

        return config;
    }
}
