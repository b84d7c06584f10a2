using System.Globalization;
using System.Text.Json;

using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MockServe.LoadTests.Config;

/// <summary>
/// A scenario file as a tree of maps, lists and scalars, each node knowing its key path (<c>scenarios[1].load[0]</c>):
/// YAML and JSON both read into it, so one reader checks both, and every error names where the value is.
/// </summary>
internal abstract record ConfigNode(string Path)
{
    /// <summary>What kind of node it is, for errors: "a map", "a list", "a value".</summary>
    public abstract string Kind { get; }

    public static string Child(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    /// <summary>Reads YAML (.yaml, .yml) or JSON (anything else) text; throws <see cref="FormatException"/> naming the line.</summary>
    public static ConfigNode Parse(string text, bool yaml, string source)
    {
        try
        {
            return yaml ? FromYaml(text) : FromJson(text);
        }
        catch (YamlException e)
        {
            throw new FormatException($"{source}: not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message}", e);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not valid JSON at line {(e.LineNumber ?? 0) + 1}: {e.Message}", e);
        }
    }

    private static ConfigNode FromYaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Count == 0 ? new ConfigMap("", []) : Convert(stream.Documents[0].RootNode, "");

        static ConfigNode Convert(YamlNode node, string path) => node switch
        {
            YamlMappingNode map => new ConfigMap(path, [.. map.Children.Select(p => Entry(p.Key, p.Value, path))]),
            YamlSequenceNode list => new ConfigList(path, [.. list.Children.Select((item, i) => Convert(item, $"{path}[{i}]"))]),
            YamlScalarNode scalar => new ConfigScalar(
                path,
                scalar.Style is ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or "Null" or "NULL" ? null : scalar.Value),
            _ => throw new FormatException($"{(path.Length == 0 ? "the file" : path)}: aliases and tags are not supported"),
        };

        static KeyValuePair<string, ConfigNode> Entry(YamlNode key, YamlNode value, string path)
        {
            string name = key is YamlScalarNode { Value: { } k } ? k : throw new FormatException($"{(path.Length == 0 ? "the file" : path)}: a key must be a plain name");
            return new(name, Convert(value, Child(path, name)));
        }
    }

    private static ConfigNode FromJson(string text)
    {
        using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return Convert(document.RootElement, "");

        static ConfigNode Convert(JsonElement element, string path) => element.ValueKind switch
        {
            JsonValueKind.Object => new ConfigMap(path, [.. element.EnumerateObject().Select(p => new KeyValuePair<string, ConfigNode>(p.Name, Convert(p.Value, Child(path, p.Name))))]),
            JsonValueKind.Array => new ConfigList(path, [.. element.EnumerateArray().Select((item, i) => Convert(item, $"{path}[{i}]"))]),
            JsonValueKind.String => new ConfigScalar(path, element.GetString()),
            JsonValueKind.Null => new ConfigScalar(path, null),
            JsonValueKind.True => new ConfigScalar(path, "true"),
            JsonValueKind.False => new ConfigScalar(path, "false"),
            _ => new ConfigScalar(path, element.GetRawText()),
        };
    }
}

/// <summary>A map, its entries in file order (a key given twice is refused by the reader).</summary>
internal sealed record ConfigMap(string Path, IReadOnlyList<KeyValuePair<string, ConfigNode>> Entries) : ConfigNode(Path)
{
    public override string Kind => "a map";
}

internal sealed record ConfigList(string Path, IReadOnlyList<ConfigNode> Items) : ConfigNode(Path)
{
    public override string Kind => "a list";
}

/// <summary>A value as written (null for YAML's ~ or JSON's null); numbers keep their text and are read invariantly.</summary>
internal sealed record ConfigScalar(string Path, string? Value) : ConfigNode(Path)
{
    public override string Kind => "a value";

    public override string ToString() => Value is null ? "null" : $"\"{Value}\"";

    public static ConfigScalar Of(string path, object value) =>
        new(path, value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value.ToString());
}
