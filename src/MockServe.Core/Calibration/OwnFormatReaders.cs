using System.Globalization;
using System.Text.Json;

using CsvHelper;
using CsvHelper.Configuration;

namespace MockServe.Core.Calibration;

/// <summary>Reads our CSV (header row) and JSON Lines files of <see cref="OwnColumns"/>, one record at a time.</summary>
internal static class OwnFormatReaders
{
    /// <summary>
    /// Reads a CSV whose header names our columns. Returns null when the header names none of them (not our file).
    /// </summary>
    public static MeasurementKind? ReadCsv(TextReader text, MeasurementSink sink)
    {
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            TrimOptions = TrimOptions.Trim,
            IgnoreBlankLines = true,
            AllowComments = true,
            Comment = '#',
        };
        using var parser = new CsvParser(text, config);
        if (!parser.Read())
        {
            return null;
        }

        var header = parser.Record ?? [];
        if (!OwnColumns.AnyKnown(header))
        {
            return null;
        }

        var kind = OwnColumns.KindOf(header, $"{sink.File}:{parser.RawRow}");
        var values = new Dictionary<string, double?>(header.Length, StringComparer.Ordinal);
        while (parser.Read())
        {
            var where = $"{sink.File}:{parser.RawRow}";
            var record = parser.Record ?? [];
            if (record.Length != header.Length)
            {
                throw new CalibrationInputException(
                    $"{where}: {record.Length} fields, but the header has {header.Length} ({string.Join(", ", header)}).");
            }

            values.Clear();
            for (var i = 0; i < header.Length; i++)
            {
                var cell = record[i];
                if (cell.Length == 0)
                {
                    values[header[i]] = null;
                }
                else if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
                {
                    values[header[i]] = number;
                }
                else
                {
                    throw OwnColumns.Bad(where, header[i], $"\"{cell}\" is not a number");
                }
            }

            sink.Add(OwnColumns.Build(kind, values, where));
        }

        return kind;
    }

    /// <summary>Reads JSON Lines of our columns; the first object's keys decide steps or requests.</summary>
    public static MeasurementKind ReadJsonl(TextReader text, MeasurementSink sink)
    {
        MeasurementKind? kind = null;
        var values = new Dictionary<string, double?>(StringComparer.Ordinal);
        var names = new List<string>();
        var lineNumber = 0;
        while (text.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var where = $"{sink.File}:{lineNumber}";
            using var document = ParseLine(line, where);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new CalibrationInputException($"{where}: expected one JSON object per line, got {JsonFields.Show(root)}");
            }

            names.Clear();
            values.Clear();
            foreach (var property in root.EnumerateObject())
            {
                names.Add(property.Name);
                values[property.Name] = property.Value.ValueKind switch
                {
                    JsonValueKind.Null => null,
                    JsonValueKind.Number when property.Value.TryGetDouble(out var n) && double.IsFinite(n) => n,
                    _ => throw OwnColumns.Bad(where, property.Name, $"expected a number, got {JsonFields.Show(property.Value)}"),
                };
            }

            if (kind is null)
            {
                kind = OwnColumns.KindOf(names, where);
            }
            else
            {
                OwnColumns.CheckNames(kind.Value, names, where);
            }

            sink.Add(OwnColumns.Build(kind.Value, values, where));
        }

        return kind ?? MeasurementKind.Request;
    }

    public static JsonDocument ParseLine(string line, string where)
    {
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new CalibrationInputException($"{where}: not valid JSON: {e.Message}");
        }
    }
}
