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

    // Triton's vLLM backend (model.py's auto_complete_config) declares these, each of shape [1] with no batch
    // dimension (max_batch_size 0); text_output has one element per response, of any length, hence [-1].
    private static readonly (string Name, DataType Type, bool Optional)[] Inputs =
    [
        ("text_input", DataType.TypeString, false),
        ("stream", DataType.TypeBool, true),
        ("sampling_parameters", DataType.TypeString, true),
        ("exclude_input_in_output", DataType.TypeBool, true),
    ];

    public TritonModel(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    public string Name { get; }

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
        foreach (var (name, type, _) in Inputs)
        {
            response.Inputs.Add(new ModelMetadataResponse.Types.TensorMetadata { Name = name, Datatype = ProtocolType(type), Shape = { 1 } });
        }

        response.Outputs.Add(new ModelMetadataResponse.Types.TensorMetadata { Name = "text_output", Datatype = "BYTES", Shape = { -1 } });
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
        foreach (var (name, type, optional) in Inputs)
        {
            config.Input.Add(new ModelInput { Name = name, DataType = type, Dims = { 1 }, Optional = optional });
        }

        config.Output.Add(new ModelOutput { Name = "text_output", DataType = DataType.TypeString, Dims = { -1 } });
        return config;
    }
}
