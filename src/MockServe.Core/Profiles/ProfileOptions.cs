namespace MockServe.Core.Profiles;

/// <summary>
/// What is served and on what, as a user sets it: model and GPU by preset id or profile file, tensor parallelism,
/// KV compression and kernel efficiency. <see cref="ToDeployment"/> is the one place a <see cref="Deployment"/>
/// is built from settings; <see cref="Validate"/> reports its problems by this class's property names.
/// </summary>
public sealed record ProfileOptions
{
    /// <summary>Model: a preset id (any case) or a profile file (.json, .yaml, .yml).</summary>
    public string Model { get; init; } = Presets.DefaultModelId;

    /// <summary>GPU: a preset id (any case) or a profile file (.json, .yaml, .yml).</summary>
    public string Gpu { get; init; } = Presets.DefaultGpuId;

    /// <summary>Tensor-parallel degree; null means the GPU profile's gpuCount.</summary>
    public int? TensorParallel { get; init; }

    /// <summary>Fraction of layers that keep a KV cache.</summary>
    public double KvLayers { get; init; } = KvCompression.None.LayersKept;

    /// <summary>Fraction of KV heads kept.</summary>
    public double KvHeads { get; init; } = KvCompression.None.HeadsKept;

    /// <summary>Fraction of tokens whose KV is kept.</summary>
    public double KvTokens { get; init; } = KvCompression.None.TokensKept;

    /// <summary>Bits per stored KV element; null keeps the model's kvBytesPerElement.</summary>
    public double? KvBits { get; init; } = KvCompression.None.Bits;

    /// <summary>Bits per stored weight; null keeps the model's weightBytesPerParameter x 8.</summary>
    public double? WeightBits { get; init; }

    /// <summary>The efficiency set: <c>peak</c>, <c>realistic</c> or an efficiency file (<see cref="EfficiencyPresets"/>).</summary>
    public string Efficiency { get; init; } = EfficiencyPresets.Peak;

    /// <summary>Fraction of peak FLOP/s a prefill reaches; null keeps the efficiency set's.</summary>
    public double? PrefillUtilization { get; init; }

    /// <summary>Fraction of peak HBM bandwidth a decode step reaches; null keeps the efficiency set's.</summary>
    public double? DecodeUtilization { get; init; }

    // Deployment.Validate names its fields as Core does; a user set the properties of this class.
    private static readonly Dictionary<string, string> PropertyOfField = new(StringComparer.Ordinal)
    {
        ["tp"] = nameof(TensorParallel),
        ["kvLayers"] = nameof(KvLayers),
        ["kvHeads"] = nameof(KvHeads),
        ["kvTokens"] = nameof(KvTokens),
        ["kvBits"] = nameof(KvBits),
        ["weightBits"] = nameof(WeightBits),
        ["prefillComputeUtilization"] = nameof(PrefillUtilization),
        ["decodeBandwidthUtilization"] = nameof(DecodeUtilization),
    };

    /// <summary>
    /// Every problem: an unknown preset or an unusable profile file (one error per "file:line: field: problem"
    /// line), and each value out of range, named by property ("KvLayers").
    /// </summary>
    public IReadOnlyList<SettingError> Validate() => Resolve().Errors;

    /// <summary>The deployment these settings describe.</summary>
    /// <exception cref="ProfileException">A setting is unusable; the message has one "Property: problem" line per error.</exception>
    public Deployment ToDeployment()
    {
        var (deployment, errors) = Resolve();
        return errors.Count == 0
            ? deployment
            : throw new ProfileException(SettingError.Join(errors, Environment.NewLine));
    }

    private (Deployment Deployment, IReadOnlyList<SettingError> Errors) Resolve()
    {
        var errors = new List<SettingError>();
        var model = Resolve(nameof(Model), () => ProfileCatalog.ResolveModel(Model), errors);
        var gpu = Resolve(nameof(Gpu), () => ProfileCatalog.ResolveGpu(Gpu), errors);

        // With a profile that cannot be read, the preset stands in so the other values are still checked;
        // its own fields are not reported, the profile's error already is.
        var efficiency = Resolve(nameof(Efficiency), () => EfficiencyPresets.Resolve(Efficiency, gpu ?? Presets.DefaultDeployment.Gpu), errors)
            ?? Profiles.Efficiency.Peak;
        var deployment = new Deployment
        {
            Model = model ?? Presets.DefaultDeployment.Model,
            Gpu = gpu ?? Presets.DefaultDeployment.Gpu,
            Efficiency = efficiency with
            {
                PrefillComputeUtilization = PrefillUtilization ?? efficiency.PrefillComputeUtilization,
                DecodeBandwidthUtilization = DecodeUtilization ?? efficiency.DecodeBandwidthUtilization,
            },
            Compression = new KvCompression { LayersKept = KvLayers, HeadsKept = KvHeads, TokensKept = KvTokens, Bits = KvBits },
            WeightBits = WeightBits,
        };
        if (TensorParallel is { } tp)
        {
            deployment = deployment with { TensorParallel = tp };
        }

        foreach (var error in deployment.Validate())
        {
            var mapped = ToProperty(error);
            if ((mapped.Property == nameof(Model) && model is null) || (mapped.Property == nameof(Gpu) && gpu is null))
            {
                continue;
            }

            errors.Add(mapped);
        }

        return (deployment, errors);
    }

    private static T? Resolve<T>(string property, Func<T> resolve, List<SettingError> errors)
        where T : class
    {
        try
        {
            return resolve();
        }
        catch (ProfileException ex)
        {
            errors.AddRange(ex.Message.Split(Environment.NewLine).Select(line => new SettingError(property, line)));
            return null;
        }
    }

    private static SettingError ToProperty(SettingError error)
    {
        if (PropertyOfField.TryGetValue(error.Property, out string? property))
        {
            return error with { Property = property };
        }

        // A profile's own field ("model.layers") is a problem of the profile the user named; so is the activation
        // reserve, which must fit the GPU's HBM: a GPU profile with too little HBM is what to fix.
        int dot = error.Property.IndexOf('.', StringComparison.Ordinal);
        string owner = dot < 0 ? error.Property : error.Property[..dot];
        string field = dot < 0 ? error.Property : error.Property[(dot + 1)..];
        return owner switch
        {
            "model" => new SettingError(nameof(Model), $"{field}: {error.Problem}"),
            "gpu" or "activationReserveBytes" => new SettingError(nameof(Gpu), $"{field}: {error.Problem}"),
            _ => error,
        };
    }
}
