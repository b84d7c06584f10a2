using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MockServe.Server.Cli;

/// <summary>How a command prints its result: a table for people, JSON for scripts.</summary>
public enum OutputFormat
{
    Table,
    Json,
}

public static class OutputFormats
{
    /// <summary>camelCase names and enum values, indented: what every <c>--format json</c> prints.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>A fresh <c>--format table|json</c> option (an option object belongs to one command).</summary>
    public static Option<OutputFormat> CreateOption() => new("--format")
    {
        Description = "Output format: table (for people) or json (for scripts).",
        HelpName = "table|json",
        DefaultValueFactory = _ => OutputFormat.Table,
    };

    public static void WriteJson<T>(TextWriter writer, T value) =>
        writer.WriteLine(JsonSerializer.Serialize(value, Json));
}
