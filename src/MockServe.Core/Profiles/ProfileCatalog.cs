namespace MockServe.Core.Profiles;

/// <summary>
/// Turns what a user typed for a model or GPU into a profile: a preset id (any case) or the path of a
/// profile file (see <see cref="ProfileLoader"/>). A preset id wins over a file of the same name.
/// </summary>
public static class ProfileCatalog
{
    public static ModelProfile ResolveModel(string idOrPath)
    {
        ArgumentNullException.ThrowIfNull(idOrPath);
        if (Presets.FindModel(idOrPath) is { } preset)
        {
            return preset;
        }

        return LooksLikePath(idOrPath)
            ? ProfileLoader.LoadModel(idOrPath)
            : throw Unknown("model", idOrPath, Presets.Models.Select(m => m.Id));
    }

    public static HardwareProfile ResolveGpu(string idOrPath)
    {
        ArgumentNullException.ThrowIfNull(idOrPath);
        if (Presets.FindGpu(idOrPath) is { } preset)
        {
            return preset;
        }

        return LooksLikePath(idOrPath)
            ? ProfileLoader.LoadGpu(idOrPath)
            : throw Unknown("GPU", idOrPath, Presets.Gpus.Select(g => g.Id));
    }

    // Preset ids contain dots ("llama-3.1-8b"), so only a profile extension, a directory separator or an
    // existing file marks a path; anything else is a mistyped id and gets the list of ids.
    private static bool LooksLikePath(string value) =>
        ProfileLoader.HasProfileExtension(value)
        || value.Contains('/', StringComparison.Ordinal)
        || value.Contains('\\', StringComparison.Ordinal)
        || File.Exists(value);

    private static ProfileException Unknown(string kind, string value, IEnumerable<string> ids) =>
        new($"unknown {kind} '{value}': not a preset id ({string.Join(", ", ids)}) "
            + "nor a profile file (.json, .yaml or .yml)");
}
