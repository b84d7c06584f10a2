using System.Text;
using System.Text.Json;

using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace MockServe.Core.Profiles;

/// <summary>The syntax a profile file is written in, chosen by its extension.</summary>
internal enum ProfileFormat
{
    Json,
    Yaml,
}

/// <summary>What a raw field value looked like in the file, before it is read as a typed value.</summary>
internal enum RawKind
{
    /// <summary>A JSON number.</summary>
    Number,

    /// <summary>A JSON string, or a quoted or block YAML scalar: always text, never a number.</summary>
    String,

    /// <summary>A plain (unquoted) YAML scalar: a number or text depending on the field.</summary>
    Plain,

    Boolean,
    Null,
    Object,
    Array,
}

internal readonly record struct RawValue(RawKind Kind, string Text, long Line)
{
    /// <summary>The value as an error message quotes it.</summary>
    public string Describe() => Kind switch
    {
        RawKind.String => $"the string \"{Text}\"",
        RawKind.Plain => $"'{Text}'",
        RawKind.Null => "null",
        RawKind.Object => "an object",
        RawKind.Array => "a list",
        _ => Text,
    };
}

internal sealed record RawField(string Name, RawValue Value);

/// <summary>
/// The top-level fields of a JSON or YAML profile file with the line each starts on, so that a later error
/// about a value can point at it. Only scalars are read; nested values are kept as their kind.
/// </summary>
internal sealed class ProfileDocument
{
    private ProfileDocument(string source, IReadOnlyList<RawField> fields)
    {
        Source = source;
        Fields = fields;
    }

    /// <summary>The file name error messages start with.</summary>
    public string Source { get; }

    public IReadOnlyList<RawField> Fields { get; }

    public static ProfileFormat? FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".json" => ProfileFormat.Json,
        ".yaml" or ".yml" => ProfileFormat.Yaml,
        _ => null,
    };

    public static ProfileDocument Parse(string text, ProfileFormat format, string source) => format switch
    {
        ProfileFormat.Json => ParseJson(text, source),
        _ => ParseYaml(text, source),
    };

    private static ProfileDocument ParseJson(string text, string source)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        var options = new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
        var reader = new Utf8JsonReader(bytes, options);
        var fields = new List<RawField>();
        try
        {
            if (!reader.Read())
            {
                throw new ProfileException($"{source}: the file is empty");
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new ProfileException(
                    $"{source}:{LineAt(bytes, reader.TokenStartIndex)}: expected an object of profile fields at the top level");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                long line = LineAt(bytes, reader.TokenStartIndex);
                reader.Read();
                RawValue value = reader.TokenType switch
                {
                    JsonTokenType.Number => new(RawKind.Number, Encoding.UTF8.GetString(reader.ValueSpan), line),
                    JsonTokenType.String => new(RawKind.String, reader.GetString()!, line),
                    JsonTokenType.True => new(RawKind.Boolean, "true", line),
                    JsonTokenType.False => new(RawKind.Boolean, "false", line),
                    JsonTokenType.StartObject => new(RawKind.Object, "", line),
                    JsonTokenType.StartArray => new(RawKind.Array, "", line),
                    _ => new(RawKind.Null, "null", line),
                };
                if (value.Kind is RawKind.Object or RawKind.Array)
                {
                    reader.Skip();
                }

                fields.Add(new RawField(name, value));
            }

            // Reading past the closing brace makes the reader reject trailing content.
            reader.Read();
        }
        catch (JsonException ex)
        {
            long line = (ex.LineNumber ?? 0) + 1;
            long column = (ex.BytePositionInLine ?? 0) + 1;
            throw new ProfileException($"{source}:{line}: malformed JSON at column {column}: {WithoutPosition(ex.Message)}");
        }

        return new ProfileDocument(source, fields);
    }

    private static ProfileDocument ParseYaml(string text, string source)
    {
        var stream = new YamlStream();
        var parser = new TrackingParser(new Parser(new StringReader(text)));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            throw new ProfileException($"{source}:{ex.Start.Line}: malformed YAML at column {ex.Start.Column}: {YamlReason(ex)}");
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet's scanner throws this without a position for some unterminated flow collections.
            throw new ProfileException($"{source}:{parser.LastGoodLine}: malformed YAML after this line: {ex.Message}");
        }

        if (stream.Documents.Count == 0)
        {
            throw new ProfileException($"{source}: the file is empty");
        }

        if (stream.Documents.Count > 1)
        {
            throw new ProfileException(
                $"{source}:{stream.Documents[1].RootNode.Start.Line}: expected one YAML document, found {stream.Documents.Count}");
        }

        var root = stream.Documents[0].RootNode;
        if (root is not YamlMappingNode mapping)
        {
            throw new ProfileException($"{source}:{root.Start.Line}: expected a mapping of profile fields at the top level");
        }

        var fields = new List<RawField>();
        foreach (var (key, node) in mapping.Children)
        {
            if (key is not YamlScalarNode { Value: { } name })
            {
                throw new ProfileException($"{source}:{key.Start.Line}: field names must be plain text");
            }

            long line = key.Start.Line;
            RawValue value = node switch
            {
                YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" } =>
                    new(RawKind.Null, "null", line),
                YamlScalarNode { Style: ScalarStyle.Plain } scalar => new(RawKind.Plain, scalar.Value!, line),
                YamlScalarNode scalar => new(RawKind.String, scalar.Value ?? "", line),
                YamlSequenceNode => new(RawKind.Array, "", line),
                _ => new(RawKind.Object, "", line),
            };
            fields.Add(new RawField(name, value));
        }

        return new ProfileDocument(source, fields);
    }

    private static long LineAt(byte[] bytes, long offset) =>
        bytes.AsSpan(0, (int)Math.Min(offset, bytes.Length)).Count((byte)'\n') + 1;

    // System.Text.Json appends " LineNumber: 3 | BytePositionInLine: 5." to its messages; the position is
    // reported separately.
    private static string WithoutPosition(string message)
    {
        int at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }

    // YamlDotNet prefixes messages with "(Line: 1, Col: 1, Idx: 0) - (Line: 1, Col: 5, Idx: 4): ".
    private static string YamlReason(YamlException ex)
    {
        string message = ex.InnerException is YamlException inner ? inner.Message : ex.Message;
        int at = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && at >= 0 ? message[(at + 3)..] : message;
    }

    /// <summary>Remembers where the last well-formed YAML event ended, for errors that carry no position.</summary>
    private sealed class TrackingParser(IParser inner) : IParser
    {
        public long LastGoodLine { get; private set; } = 1;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            bool moved = inner.MoveNext();
            if (moved && inner.Current is { } current)
            {
                LastGoodLine = current.End.Line;
            }

            return moved;
        }
    }
}
