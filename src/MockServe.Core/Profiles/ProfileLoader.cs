namespace MockServe.Core.Profiles;

/// <summary>
/// Reads custom model and GPU profiles from JSON (.json) or YAML (.yaml, .yml) files whose camelCase field
/// names match the profile properties. A file that cannot be used is refused with a
/// <see cref="ProfileException"/> naming the file, the line, the field and what is wrong.
/// </summary>
public static class ProfileLoader
{
    private static readonly ModelProfile ModelDefaults = new() { Id = "" };
    private static readonly HardwareProfile GpuDefaults = new() { Id = "" };

    /// <summary>The fields a model profile file may contain, in the order the documentation lists them.</summary>
    public static IReadOnlyList<string> ModelFields { get; } =
    [
        "id", "name", "layers", "hiddenSize", "queryHeads", "kvHeads", "headDim", "ropeHeadDim", "kvLatentDim",
        "ffnSize", "vocabulary", "totalParameters", "activeParameters", "experts", "expertsPerToken", "attention", "maxContext",
        "weightBits", "weightBytesPerParameter", "kvBytesPerElement", "source",
    ];

    /// <summary>The fields a GPU profile file may contain.</summary>
    public static IReadOnlyList<string> GpuFields { get; } =
    [
        "id", "name", "hbmBytes", "hbmBandwidth", "peakFlops", "peakFlopsFp8", "hostLinkBandwidth", "hostMemoryBytes",
        "interconnectBandwidth", "gpuCount", "source",
    ];

    /// <summary>True when <paramref name="path"/> ends in an extension a profile file can have.</summary>
    public static bool HasProfileExtension(string path) => ProfileDocument.FormatOf(path) is not null;

    public static ModelProfile LoadModel(string path)
    {
        var (text, format) = Read(path);
        return ParseModel(text, format, path);
    }

    public static HardwareProfile LoadGpu(string path)
    {
        var (text, format) = Read(path);
        return ParseGpu(text, format, path);
    }

    internal static ModelProfile ParseModel(string text, ProfileFormat format, string source)
    {
        var fields = new ProfileFields(ProfileDocument.Parse(text, format, source), "model", ModelFields);
        var attention = fields.Attention("attention");
        // With an unreadable attention kind it is unknown which of kvHeads and kvLatentDim must be present.
        bool attentionKnown = attention is not null || !fields.Has("attention");
        bool mla = attention == AttentionKind.Mla;
        int? queryHeads = fields.Int("queryHeads", required: true);
        double? totalParameters = fields.Double("totalParameters", required: true);

        var profile = new ModelProfile
        {
            Id = fields.String("id", required: true) ?? "",
            Name = fields.String("name") ?? ModelDefaults.Name,
            Layers = fields.Int("layers", required: true) ?? 0,
            HiddenSize = fields.Int("hiddenSize", required: true) ?? 0,
            QueryHeads = queryHeads ?? 0,
            // MLA caches a latent instead of per-head K/V, so kvHeads only matters for the other kinds.
            KvHeads = fields.Int("kvHeads", required: attentionKnown && !mla) ?? (mla ? queryHeads ?? 0 : 0),
            HeadDim = fields.Int("headDim", required: true) ?? 0,
            RopeHeadDim = fields.Int("ropeHeadDim") ?? ModelDefaults.RopeHeadDim,
            KvLatentDim = fields.Int("kvLatentDim", required: attentionKnown && mla) ?? ModelDefaults.KvLatentDim,
            FfnSize = fields.Int("ffnSize", required: true) ?? 0,
            Vocabulary = fields.Int("vocabulary", required: true) ?? 0,
            TotalParameters = totalParameters ?? 0,
            // A dense model passes every token through all its parameters; only an MoE needs to say otherwise.
            ActiveParameters = fields.Double("activeParameters") ?? totalParameters ?? 0,
            Experts = fields.Int("experts") ?? 0,
            ExpertsPerToken = fields.Int("expertsPerToken") ?? 0,
            Attention = attention ?? ModelDefaults.Attention,
            MaxContext = fields.Int("maxContext", required: true) ?? 0,
            // weightBits (16, 8, 4) is the usual way to say it; weightBytesPerParameter the older one. Both: refused below.
            WeightBytesPerParameter = fields.Double("weightBits") / 8 ?? fields.Double("weightBytesPerParameter") ?? ModelDefaults.WeightBytesPerParameter,
            KvBytesPerElement = fields.Double("kvBytesPerElement") ?? ModelDefaults.KvBytesPerElement,
            Source = fields.String("source") ?? ModelDefaults.Source,
        };

        var errors = profile.Validate().ToList();
        if (fields.Has("weightBits") && fields.Has("weightBytesPerParameter"))
        {
            errors.Add("weightBits: give weightBits or weightBytesPerParameter, not both");
        }

        fields.AddValidationErrors(errors);
        fields.ThrowIfAny();
        return profile;
    }

    internal static HardwareProfile ParseGpu(string text, ProfileFormat format, string source)
    {
        var fields = new ProfileFields(ProfileDocument.Parse(text, format, source), "GPU", GpuFields);
        var profile = new HardwareProfile
        {
            Id = fields.String("id", required: true) ?? "",
            Name = fields.String("name") ?? GpuDefaults.Name,
            HbmBytes = fields.Double("hbmBytes", required: true) ?? 0,
            HbmBandwidth = fields.Double("hbmBandwidth", required: true) ?? 0,
            PeakFlops = fields.Double("peakFlops", required: true) ?? 0,
            PeakFlopsFp8 = fields.Double("peakFlopsFp8") ?? GpuDefaults.PeakFlopsFp8,
            HostLinkBandwidth = fields.Double("hostLinkBandwidth", required: true) ?? 0,
            HostMemoryBytes = fields.Double("hostMemoryBytes") ?? GpuDefaults.HostMemoryBytes,
            InterconnectBandwidth = fields.Double("interconnectBandwidth", required: true) ?? 0,
            GpuCount = fields.Int("gpuCount") ?? GpuDefaults.GpuCount,
            Source = fields.String("source") ?? GpuDefaults.Source,
        };

        fields.AddValidationErrors(profile.Validate());
        fields.ThrowIfAny();
        return profile;
    }

    internal static (string Text, ProfileFormat Format) Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ProfileException($"{path}: profile file not found (looked for {Path.GetFullPath(path)})");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ProfileException($"{path}: cannot read the profile file: {ex.Message}");
        }

        var format = ProfileDocument.FormatOf(path)
            ?? throw new ProfileException(
                $"{path}: unsupported profile file extension '{Path.GetExtension(path)}'; use .json, .yaml or .yml");
        return (text, format);
    }
}
