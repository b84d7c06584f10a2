using System.Globalization;
using System.Text.Json;

namespace MockServe.Core.Calibration;

/// <summary>
/// Typed access to a JSON document that turns every surprise into a <see cref="CalibrationInputException"/>
/// naming <c>location</c> (the file, or file:line for JSON Lines) and the JSON path.
/// </summary>
internal sealed class JsonFields(string location)
{
    public string Location { get; } = location;

    public CalibrationInputException Error(string path, string problem) => new($"{Location}: {path}: {problem}");

    public static bool Has(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public JsonElement Require(JsonElement obj, string name, string path)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, $"expected an object, got {Show(obj)}");
        }

        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw Error($"{path}.{name}", "missing");
        }

        return value;
    }

    public JsonElement RequireObject(JsonElement obj, string name, string path)
    {
        var value = Require(obj, name, path);
        return value.ValueKind == JsonValueKind.Object ? value : throw Error($"{path}.{name}", $"expected an object, got {Show(value)}");
    }

    public JsonElement RequireArray(JsonElement obj, string name, string path)
    {
        var value = Require(obj, name, path);
        return value.ValueKind == JsonValueKind.Array ? value : throw Error($"{path}.{name}", $"expected a list, got {Show(value)}");
    }

    public double Number(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number)
            ? number
            : throw Error(path, $"expected a number, got {Show(value)}");

    public double RequireNumber(JsonElement obj, string name, string path) => Number(Require(obj, name, path), $"{path}.{name}");

    /// <summary>The number at <paramref name="name"/>, or null when the field is absent or null.</summary>
    public double? OptionalNumber(JsonElement obj, string name, string path) =>
        Has(obj, name) ? Number(obj.GetProperty(name), $"{path}.{name}") : null;

    public double Positive(double value, string path) =>
        value > 0 ? value : throw Error(path, $"{Format(value)} is not a positive number");

    public double NonNegative(double value, string path) =>
        value >= 0 ? value : throw Error(path, $"{Format(value)} is negative");

    public long WholeTokens(double value, string path) =>
        value >= 0 && value == Math.Floor(value) && value <= long.MaxValue
            ? (long)value
            : throw Error(path, $"{Format(value)} is not a whole number of tokens");

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A short rendering of a JSON value for messages: strings keep their quotes.</summary>
    public static string Show(JsonElement value)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "a list",
            JsonValueKind.Undefined => "nothing",
            _ => value.GetRawText(),
        };
        return text.Length <= 40 ? text : text[..37] + "...";
    }
}
