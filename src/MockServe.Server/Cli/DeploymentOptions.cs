using System.CommandLine;

using MockServe.Core.Profiles;

namespace MockServe.Server.Cli;

/// <summary>
/// The options that pick what is served and on what: model, GPU, tensor parallelism, KV compression and
/// kernel efficiency. A command creates one instance, calls <see cref="AddTo"/> and, in its action,
/// <see cref="Build"/>; an option object belongs to a single command, so each command needs its own instance.
/// </summary>
public sealed class DeploymentOptions
{
    public Option<string> Model { get; } = new("--model")
    {
        Description = $"Model: a preset id ({string.Join(", ", Presets.Models.Select(m => m.Id))}) "
            + "or a profile file (.json, .yaml, .yml).",
        HelpName = "ID|FILE",
        DefaultValueFactory = _ => Presets.DefaultModelId,
    };

    public Option<string> Gpu { get; } = new("--gpu")
    {
        Description = $"GPU: a preset id ({string.Join(", ", Presets.Gpus.Select(g => g.Id))}) "
            + "or a profile file (.json, .yaml, .yml).",
        HelpName = "ID|FILE",
        DefaultValueFactory = _ => Presets.DefaultGpuId,
    };

    public Option<int?> TensorParallel { get; } = new("--tp")
    {
        Description = "Tensor-parallel degree, 1 to 64: GPUs the model is sharded over. [default: the GPU profile's gpuCount]",
        HelpName = "N",
    };

    public Option<double?> KvLayers { get; } = new("--kv-layers")
    {
        Description = "Fraction of layers that keep a KV cache, in (0, 1]. [default: 1]",
        HelpName = "F",
    };

    public Option<double?> KvHeads { get; } = new("--kv-heads")
    {
        Description = "Fraction of KV heads kept, in (0, 1]. [default: 1]",
        HelpName = "F",
    };

    public Option<double?> KvTokens { get; } = new("--kv-tokens")
    {
        Description = "Fraction of tokens whose KV is kept, in (0, 1]. [default: 1]",
        HelpName = "F",
    };

    public Option<double?> KvBits { get; } = new("--kv-bits")
    {
        Description = "Bits per stored KV element, 1 to 32. [default: the model's kvBytesPerElement x 8]",
        HelpName = "B",
    };

    public Option<double?> PrefillUtilization { get; } = new("--prefill-util")
    {
        Description = "Fraction of peak FLOP/s a prefill reaches, in (0, 1]. [default: 1]",
        HelpName = "F",
    };

    public Option<double?> DecodeUtilization { get; } = new("--decode-util")
    {
        Description = "Fraction of peak HBM bandwidth a decode step reaches, in (0, 1]. [default: 1]",
        HelpName = "F",
    };

    private IEnumerable<Option> All =>
    [
        Model, Gpu, TensorParallel, KvLayers, KvHeads, KvTokens, KvBits, PrefillUtilization, DecodeUtilization,
    ];

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in All)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// Resolves the profiles and checks every value with <see cref="Deployment.Validate"/>.
    /// </summary>
    /// <exception cref="CliException">A value is unusable; the message names the option.</exception>
    public Deployment Build(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var model = Resolve(Model, parseResult, ProfileCatalog.ResolveModel);
        var gpu = Resolve(Gpu, parseResult, ProfileCatalog.ResolveGpu);
        var defaultEfficiency = new Efficiency();
        var deployment = new Deployment
        {
            Model = model,
            Gpu = gpu,
            Efficiency = new Efficiency
            {
                PrefillComputeUtilization = parseResult.GetValue(PrefillUtilization) ?? defaultEfficiency.PrefillComputeUtilization,
                DecodeBandwidthUtilization = parseResult.GetValue(DecodeUtilization) ?? defaultEfficiency.DecodeBandwidthUtilization,
            },
            Compression = new KvCompression
            {
                LayersKept = parseResult.GetValue(KvLayers) ?? KvCompression.None.LayersKept,
                HeadsKept = parseResult.GetValue(KvHeads) ?? KvCompression.None.HeadsKept,
                TokensKept = parseResult.GetValue(KvTokens) ?? KvCompression.None.TokensKept,
                Bits = parseResult.GetValue(KvBits) ?? KvCompression.None.Bits,
            },
        };

        if (parseResult.GetValue(TensorParallel) is { } tp)
        {
            deployment = deployment with { TensorParallel = tp };
        }

        var errors = deployment.Validate();
        if (errors.Count > 0)
        {
            throw new CliException(string.Join(Environment.NewLine, errors.Select(e => OptionError(e.ToString()))));
        }

        return deployment;
    }

    /// <summary>One line naming what a deployment serves, for headers: "yi-34b on 2 x a100-80gb".</summary>
    public static string Describe(Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return $"{deployment.Model.Id} on {deployment.TensorParallel} x {deployment.Gpu.Id}";
    }

    private static T Resolve<T>(Option<string> option, ParseResult parseResult, Func<string, T> resolve)
    {
        string value = parseResult.GetValue(option)!;
        try
        {
            return resolve(value);
        }
        catch (ProfileException ex)
        {
            throw new CliException(PrefixLines(option.Name, ex.Message));
        }
    }

    // Deployment.Validate names the Core fields; the user typed options.
    private string OptionError(string error)
    {
        int colon = error.IndexOf(':', StringComparison.Ordinal);
        string field = colon > 0 ? error[..colon] : "";
        string? option = field switch
        {
            "tp" => TensorParallel.Name,
            "kvLayers" => KvLayers.Name,
            "kvHeads" => KvHeads.Name,
            "kvTokens" => KvTokens.Name,
            "kvBits" => KvBits.Name,
            "prefillComputeUtilization" => PrefillUtilization.Name,
            "decodeBandwidthUtilization" => DecodeUtilization.Name,
            _ => null,
        };
        if (option is not null)
        {
            return $"{option}{error[colon..]}";
        }

        // Profile fields ("model.layers", "gpu.hbmBytes") and the activation reserve belong to a profile.
        return error.StartsWith("model.", StringComparison.Ordinal)
            ? $"{Model.Name}: {error["model.".Length..]}"
            : $"{Gpu.Name}: {(error.StartsWith("gpu.", StringComparison.Ordinal) ? error["gpu.".Length..] : error)}";
    }

    private static string PrefixLines(string prefix, string message) =>
        string.Join(Environment.NewLine, message.Split(Environment.NewLine).Select(line => $"{prefix}: {line}"));
}
