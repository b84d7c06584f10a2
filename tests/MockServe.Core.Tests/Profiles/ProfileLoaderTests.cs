using MockServe.Core.Profiles;

namespace MockServe.Core.Tests.Profiles;

public sealed class ProfileLoaderTests : IDisposable
{
    private const string ModelYaml = """
        # A GQA model written by hand for the test.
        id: test-7b
        name: Test 7B
        layers: 28
        hiddenSize: 3584
        queryHeads: 28
        kvHeads: 4
        headDim: 128
        ffnSize: 18944
        vocabulary: 152064
        totalParameters: 7.6e9
        attention: GQA
        maxContext: 32768
        weightBytesPerParameter: 1
        kvBytesPerElement: 1
        source: hand-written
        """;

    private const string GpuJson = """
        {
          "id": "test-gpu",
          "name": "Test GPU",
          "hbmBytes": 96e9,
          "hbmBandwidth": 4.0e12,
          "peakFlops": 500e12,
          "hostLinkBandwidth": 64e9,
          "hostMemoryBytes": 512e9,
          "interconnectBandwidth": 450e9,
          "gpuCount": 4,
          "source": "hand-written"
        }
        """;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void LoadModel_YamlFile_ReadsEveryField()
    {
        string path = _dir.Write("model.yaml", ModelYaml);

        var model = ProfileLoader.LoadModel(path);

        Assert.Equal(
            new ModelProfile
            {
                Id = "test-7b",
                Name = "Test 7B",
                Layers = 28,
                HiddenSize = 3584,
                QueryHeads = 28,
                KvHeads = 4,
                HeadDim = 128,
                FfnSize = 18944,
                Vocabulary = 152064,
                TotalParameters = 7.6e9,
                ActiveParameters = 7.6e9,
                Attention = AttentionKind.Gqa,
                MaxContext = 32768,
                WeightBytesPerParameter = 1,
                KvBytesPerElement = 1,
                Source = "hand-written",
            },
            model);
    }

    [Fact]
    public void LoadModel_JsonMlaFile_ReadsEveryField()
    {
        string path = _dir.Write("model.json", """
            {
              "id": "mla-test", "name": "MLA test", "layers": 27, "hiddenSize": 2048,
              "queryHeads": 16, "kvHeads": 16, "headDim": 128, "ropeHeadDim": 64, "kvLatentDim": 576,
              "ffnSize": 10944, "vocabulary": 102400, "totalParameters": 15.7e9, "activeParameters": 2.4e9, "experts": 64, "expertsPerToken": 6,
              "attention": "mla", "maxContext": 32768, "weightBytesPerParameter": 2, "kvBytesPerElement": 2,
              "source": "hand-written"
            }
            """);

        var model = ProfileLoader.LoadModel(path);

        Assert.Equal(Presets.FindModel("deepseek-v2-lite")! with { Id = "mla-test", Name = "MLA test", Source = "hand-written" }, model);
    }

    [Fact]
    public void LoadModel_YmlExtension_IsYaml()
    {
        string path = _dir.Write("model.yml", ModelYaml);

        Assert.Equal("test-7b", ProfileLoader.LoadModel(path).Id);
    }

    [Fact]
    public void LoadModel_ActiveParametersAbsent_DefaultsToTotalParameters()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("totalParameters: 7.6e9", "totalParameters: 46.7e9"));

        var model = ProfileLoader.LoadModel(path);

        Assert.Equal(46.7e9, model.ActiveParameters);
    }

    [Fact]
    public void LoadModel_WeightBits_BytesPerParameterAreAnEighth()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("weightBytesPerParameter: 1", "weightBits: 4"));

        Assert.Equal(0.5, ProfileLoader.LoadModel(path).WeightBytesPerParameter);
    }

    [Fact]
    public void LoadModel_WeightBitsAndBytesPerParameter_RefusedNamingBoth()
    {
        string path = _dir.Write("model.yaml", ModelYaml + "\nweightBits: 4\n");

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.Contains("weightBits: give weightBits or weightBytesPerParameter, not both", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadModel_MoeActiveParametersGiven_KeepsThem()
    {
        string path = _dir.Write("moe.yaml", ModelYaml + "\nactiveParameters: 2.1e9\nexperts: 8\nexpertsPerToken: 2\n");

        var model = ProfileLoader.LoadModel(path);

        Assert.Equal((7.6e9, 2.1e9), (model.TotalParameters, model.ActiveParameters));
    }

    [Fact]
    public void LoadModel_MoeWithoutExperts_IsRefusedNamingExperts()
    {
        string path = _dir.Write("moe.yaml", ModelYaml + "\nactiveParameters: 2.1e9\n");

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.Contains("experts:", ex.Message);
        Assert.Contains("got 0 and 0", ex.Message);
    }

    [Fact]
    public void LoadModel_AttentionOmitted_DefaultsToGqa()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("attention: GQA\n", ""));

        Assert.Equal(AttentionKind.Gqa, ProfileLoader.LoadModel(path).Attention);
    }

    [Fact]
    public void LoadModel_UnknownField_NamesFileLineFieldAndKnownFields()
    {
        string path = _dir.Write("model.yaml", ModelYaml + "\nlayer: 30\n");

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.StartsWith($"{path}:17: layer: unknown field (did you mean 'layers'?); known model fields: id, name, layers,", ex.Message);
        Assert.Contains("kvBytesPerElement, source", ex.Message);
    }

    [Fact]
    public void LoadModel_MiscasedField_IsUnknown()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("hiddenSize:", "HiddenSize:"));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.Contains($"{path}:5: HiddenSize: unknown field (did you mean 'hiddenSize'?)", ex.Message);
    }

    [Fact]
    public void LoadModel_YamlTextForNumber_ReportsWrongType()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("layers: 28", "layers: twenty-eight"));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.Equal($"{path}:4: layers: expected a whole number, got 'twenty-eight'", ex.Message);
    }

    [Fact]
    public void LoadModel_FractionForWholeNumber_ReportsWrongType()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("headDim: 128", "headDim: 127.5"));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.Equal($"{path}:8: headDim: expected a whole number, got '127.5'", ex.Message);
    }

    [Fact]
    public void LoadGpu_JsonStringForNumber_ReportsWrongType()
    {
        string path = _dir.Write("gpu.json", GpuJson.Replace("\"hbmBytes\": 96e9", "\"hbmBytes\": \"96e9\""));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadGpu(path));

        Assert.Equal($"{path}:4: hbmBytes: expected a number, got the string \"96e9\"", ex.Message);
    }

    [Fact]
    public void LoadModel_UnknownAttention_ListsTheKinds()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("attention: GQA", "attention: sliding"));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.Equal($"{path}:12: attention: expected one of mha, gqa, mqa, mla, got 'sliding'", ex.Message);
    }

    [Fact]
    public void LoadModel_MissingRequiredField_NamesIt()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("maxContext: 32768\n", ""));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.Equal($"{path}: maxContext: required field is missing", ex.Message);
    }

    [Fact]
    public void LoadModel_MlaWithoutLatentDim_ReportsKvLatentDimMissing()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("attention: GQA", "attention: mla"));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.Equal($"{path}: kvLatentDim: required field is missing", ex.Message);
    }

    [Fact]
    public void LoadModel_ValueOutOfRange_ReportsValidateErrorWithLine()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("kvHeads: 4", "kvHeads: 3"));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.Equal($"{path}:7: kvHeads: 3 does not divide queryHeads 28", ex.Message);
    }

    [Fact]
    public void LoadModel_SeveralProblems_ReportsEachOnItsOwnLine()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("layers: 28", "layers: 0").Replace("vocabulary: 152064\n", ""));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.Equal(
            [$"{path}: vocabulary: required field is missing", $"{path}:4: layers: must be a positive number, got 0"],
            ex.Message.Split(Environment.NewLine));
    }

    [Fact]
    public void LoadGpu_DuplicateJsonField_ReportsBothLines()
    {
        string path = _dir.Write("gpu.json", GpuJson.Replace("\"gpuCount\": 4,", "\"gpuCount\": 4,\n  \"peakFlops\": 1e15,"));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadGpu(path));

        Assert.Equal($"{path}:11: peakFlops: appears twice (first on line 6)", ex.Message);
    }

    [Fact]
    public void LoadGpu_MalformedJson_ReportsLine()
    {
        string path = _dir.Write("gpu.json", GpuJson.Replace("\"peakFlops\": 500e12,", "\"peakFlops\": 500e12,,"));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadGpu(path));

        Assert.StartsWith($"{path}:6: malformed JSON at column ", ex.Message);
    }

    [Fact]
    public void LoadModel_MalformedYaml_ReportsLine()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("ffnSize: 18944", "ffnSize: [18944"));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.StartsWith($"{path}:9: malformed YAML", ex.Message);
    }

    [Fact]
    public void LoadModel_BadYamlIndentation_ReportsLineAndReason()
    {
        string path = _dir.Write("model.yaml", ModelYaml.Replace("queryHeads: 28", "  queryHeads: 28"));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.StartsWith($"{path}:6: malformed YAML at column 13: While scanning a plain scalar", ex.Message);
    }

    [Fact]
    public void LoadModel_TopLevelList_IsRefused()
    {
        string path = _dir.Write("model.yaml", "- id: a\n- id: b\n");

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.Equal($"{path}:1: expected a mapping of profile fields at the top level", ex.Message);
    }

    [Fact]
    public void LoadModel_EmptyFile_IsRefused()
    {
        string path = _dir.Write("model.json", "");

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.StartsWith($"{path}:", ex.Message);
    }

    [Fact]
    public void LoadModel_FileNotFound_NamesThePath()
    {
        string path = Path.Combine(_dir.Path, "missing.yaml");

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.StartsWith($"{path}: profile file not found", ex.Message);
    }

    [Fact]
    public void LoadModel_UnsupportedExtension_ListsTheSupportedOnes()
    {
        string path = _dir.Write("model.toml", "id = 'x'");

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadModel(path));

        Assert.Equal($"{path}: unsupported profile file extension '.toml'; use .json, .yaml or .yml", ex.Message);
    }

    [Fact]
    public void LoadGpu_JsonFile_ReadsEveryField()
    {
        string path = _dir.Write("gpu.json", GpuJson);

        var gpu = ProfileLoader.LoadGpu(path);

        Assert.Equal(
            new HardwareProfile
            {
                Id = "test-gpu",
                Name = "Test GPU",
                HbmBytes = 96e9,
                HbmBandwidth = 4.0e12,
                PeakFlops = 500e12,
                HostLinkBandwidth = 64e9,
                HostMemoryBytes = 512e9,
                InterconnectBandwidth = 450e9,
                GpuCount = 4,
                Source = "hand-written",
            },
            gpu);
    }

    [Fact]
    public void LoadGpu_YamlFileWithOnlyRequiredFields_UsesDefaults()
    {
        string path = _dir.Write("gpu.yaml", """
            id: bare
            hbmBytes: 24e9
            hbmBandwidth: 1e12
            peakFlops: 165e12
            hostLinkBandwidth: 32e9
            interconnectBandwidth: 32e9
            """);

        var gpu = ProfileLoader.LoadGpu(path);

        Assert.Equal((1, 0.0, ""), (gpu.GpuCount, gpu.HostMemoryBytes, gpu.Name));
    }

    [Fact]
    public void LoadGpu_GpuCountOutOfRange_ReportsValidateError()
    {
        string path = _dir.Write("gpu.json", GpuJson.Replace("\"gpuCount\": 4", "\"gpuCount\": 0"));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadGpu(path));

        Assert.Equal($"{path}:10: gpuCount: must be between 1 and 64, got 0", ex.Message);
    }

    [Fact]
    public void LoadGpu_ModelFieldInGpuFile_ListsGpuFields()
    {
        string path = _dir.Write("gpu.json", GpuJson.Replace("\"gpuCount\": 4,", "\"gpuCount\": 4, \"layers\": 2,"));

        var ex = Assert.Throws<ProfileException>(() => ProfileLoader.LoadGpu(path));

        Assert.Equal(
            $"{path}:10: layers: unknown field; known GPU fields: id, name, hbmBytes, hbmBandwidth, peakFlops, peakFlopsFp8, "
            + "hostLinkBandwidth, hostMemoryBytes, interconnectBandwidth, gpuCount, source",
            ex.Message);
    }
}
