using System.Collections;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;

namespace MockServe.Server.Configuration;

/// <summary>A configuration value and the name its source gave it: a flag, an environment variable, a key.</summary>
/// <param name="Key">Configuration key: MockServe:Profile:KvLayers.</param>
/// <param name="WrittenAs">How the user wrote it: --kv-layers, MockServe__Profile__KvLayers.</param>
public sealed record ConfigurationEntry(string Key, string? Value, string WrittenAs);

/// <summary>
/// Where settings come from, lowest precedence first: appsettings.json, then environment variables
/// (MockServe__Server__Port), then the flags or overrides a command passes to <see cref="AddTo"/>. Every command
/// builds its configuration here, so a value means the same wherever it is written.
/// </summary>
/// <param name="AppSettingsFile">appsettings.json (optional: a missing file is no error), or null for none.</param>
/// <param name="Environment">Environment variables; tests pass their own instead of changing the process's.</param>
public sealed record SettingSources(string? AppSettingsFile, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>appsettings.json next to the binary and the process's environment variables.</summary>
    public static SettingSources FromProcess()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry variable in System.Environment.GetEnvironmentVariables())
        {
            environment[(string)variable.Key] = (string?)variable.Value ?? "";
        }

        return new SettingSources(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), environment);
    }

    public IConfigurationBuilder AddTo(IConfigurationBuilder builder, IEnumerable<ConfigurationEntry> overrides)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (AppSettingsFile is not null)
        {
            string path = Path.GetFullPath(AppSettingsFile);
            builder.AddJsonFile(source =>
            {
                source.Path = Path.GetFileName(path);
                source.FileProvider = new PhysicalFileProvider(Path.GetDirectoryName(path)!);
                source.Optional = true;
                source.ReloadOnChange = false;
                source.OnLoadException = context => throw SettingsFileException.From(context.Exception);
            });
        }

        // As AddEnvironmentVariables() does: every variable, "__" for the key delimiter.
        builder.Add(new NamedValuesSource(Environment.Select(v => new ConfigurationEntry(
            v.Key.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal), v.Value, v.Key))));
        builder.Add(new NamedValuesSource(overrides));
        return builder;
    }

    /// <summary>
    /// What the source with the highest precedence holds for <paramref name="key"/>, and how that source names
    /// it; null when no source has it. A list is taken whole from one source, never merged item by item.
    /// </summary>
    internal static RawSetting? Read(IConfiguration configuration, string key)
    {
        if (configuration is not IConfigurationRoot root)
        {
            var section = configuration.GetSection(key);
            var children = section.GetChildren().Select(c => c.Value).OfType<string>().ToList();
            return section.Value is { } value ? new RawSetting(value, null, key)
                : children.Count > 0 ? new RawSetting(null, children, key)
                : null;
        }

        foreach (var provider in root.Providers.Reverse())
        {
            if (provider.TryGet(key, out string? text) && text is not null)
            {
                return new RawSetting(text, null, WrittenAs(provider, key));
            }

            var items = provider.GetChildKeys([], key)
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .OrderBy(child => int.TryParse(child, out int index) ? index : int.MaxValue)
                .Select(child => (Key: $"{key}{ConfigurationPath.KeyDelimiter}{child}", Found: provider.TryGet($"{key}{ConfigurationPath.KeyDelimiter}{child}", out string? item), Item: item))
                .Where(child => child.Found && child.Item is not null)
                .ToList();
            if (items.Count > 0)
            {
                return new RawSetting(null, items.Select(i => i.Item!).ToList(), WrittenAs(provider, items[0].Key));
            }
        }

        return null;
    }

    private static string WrittenAs(IConfigurationProvider provider, string key) =>
        provider is NamedValuesProvider named ? named.WrittenAs(key) : key;

    private sealed class NamedValuesSource(IEnumerable<ConfigurationEntry> entries) : IConfigurationSource
    {
        private readonly List<ConfigurationEntry> _entries = entries.ToList();

        public IConfigurationProvider Build(IConfigurationBuilder builder) => new NamedValuesProvider(_entries);
    }

    /// <summary>In-memory values that remember the name each was written under.</summary>
    private sealed class NamedValuesProvider : ConfigurationProvider
    {
        private readonly Dictionary<string, string> _writtenAs = new(StringComparer.OrdinalIgnoreCase);

        public NamedValuesProvider(IEnumerable<ConfigurationEntry> entries)
        {
            foreach (var entry in entries)
            {
                Data[entry.Key] = entry.Value;
                _writtenAs[entry.Key] = entry.WrittenAs;
            }
        }

        public string WrittenAs(string key) => _writtenAs.TryGetValue(key, out string? name) ? name : key;
    }
}

/// <summary>A settings file that cannot be read; the message names the file and what is wrong.</summary>
public sealed class SettingsFileException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>
    /// From a configuration provider's load failure: its message names the file, the parser's innermost one says
    /// what is wrong and where ("'x' is invalid after a value ... LineNumber: 3").
    /// </summary>
    public static SettingsFileException From(Exception loadFailure)
    {
        ArgumentNullException.ThrowIfNull(loadFailure);
        return new($"{loadFailure.Message} {loadFailure.GetBaseException().Message}", loadFailure);
    }
}

/// <summary>What one source holds for a setting: a value, or a list's items; and the name the source gave it.</summary>
internal sealed record RawSetting(string? Text, IReadOnlyList<string>? Items, string WrittenAs);
