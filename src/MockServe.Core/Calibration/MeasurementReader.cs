using System.Text;
using System.Text.Json;

namespace MockServe.Core.Calibration;

/// <summary>
/// Reads benchmark measurements from a file into <see cref="Measurement"/>s, detecting the format from the content
/// (not the extension): our CSV or JSON Lines of steps or requests, <c>vllm bench serve</c> results, AIPerf
/// <c>profile_export_aiperf.json</c> or guidellm <c>benchmarks.json</c>. Anything it cannot use is refused with a
/// <see cref="CalibrationInputException"/> naming the file, the line or JSON path, and the problem.
/// </summary>
/// <remarks>
/// CSV and JSON Lines are read one record at a time, so memory does not grow with the file beyond the
/// measurements kept. The tools' single JSON documents are parsed whole, so they are capped at
/// <see cref="MaxJsonDocumentBytes"/>.
/// </remarks>
public static class MeasurementReader
{
    /// <summary>The most measurements one file may yield.</summary>
    public const int MaxMeasurements = 1_000_000;

    /// <summary>The largest single JSON document (vLLM, AIPerf, guidellm) read, in bytes.</summary>
    public const long MaxJsonDocumentBytes = 1L << 30;

    private const string Tried =
        "Tried: CSV with a header row of our columns (steps: " + OwnColumns.StepsDescription + "; requests: "
        + OwnColumns.RequestsDescription + "); JSON Lines, one object per line with the same columns; "
        + "vllm bench serve --save-result JSON (needs completed and mean_ttft_ms, or the --save-detailed lists ttfts, itls, input_lens, output_lens); "
        + "AIPerf profile_export_aiperf.json (needs time_to_first_token with a unit, at the top level or under records); "
        + "guidellm benchmarks.json (needs a benchmarks list).";

    /// <inheritdoc cref="Read(string, int)"/>
    public static MeasurementSet Read(string path) => Read(path, MaxMeasurements);

    /// <summary>Reads <paramref name="path"/>, refusing more than <paramref name="maxMeasurements"/> measurements.</summary>
    public static MeasurementSet Read(string path, int maxMeasurements)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMeasurements, 1);
        var file = Path.GetFileName(path);
        if (!File.Exists(path))
        {
            throw new CalibrationInputException($"{path}: file not found.");
        }

        var sink = new MeasurementSink(file, maxMeasurements);
        var format = Detect(path, file);
        switch (format)
        {
            case Shape.Csv:
                using (var text = OpenText(path))
                {
                    var kind = OwnFormatReaders.ReadCsv(text, sink)
                        ?? throw new CalibrationInputException($"{file}: not a measurement file we know. {Tried}");
                    format = kind == MeasurementKind.Step ? Shape.StepsCsv : Shape.RequestsCsv;
                }

                break;
            case Shape.OwnJsonl:
                using (var text = OpenText(path))
                {
                    format = OwnFormatReaders.ReadJsonl(text, sink) == MeasurementKind.Step ? Shape.StepsJsonl : Shape.RequestsJsonl;
                }

                break;
            case Shape.VllmLines:
                ReadVllmLines(path, sink);
                break;
            default:
                format = ReadDocument(path, sink);
                break;
        }

        if (sink.Items.Count == 0)
        {
            throw new CalibrationInputException(
                $"{file}: no measurements{(sink.Skipped > 0 ? $" ({sink.Skipped} records skipped: failed or no output tokens)" : "")}.");
        }

        return new MeasurementSet(path, Name(format), sink.Items, sink.Skipped);
    }

    private enum Shape { Csv, StepsCsv, RequestsCsv, OwnJsonl, StepsJsonl, RequestsJsonl, VllmLines, Document, Vllm, AiPerf, GuideLlm }

    private static string Name(Shape shape) => shape switch
    {
        Shape.StepsCsv => MeasurementFormats.StepsCsv,
        Shape.RequestsCsv => MeasurementFormats.RequestsCsv,
        Shape.StepsJsonl => MeasurementFormats.StepsJsonl,
        Shape.RequestsJsonl => MeasurementFormats.RequestsJsonl,
        Shape.Vllm or Shape.VllmLines => MeasurementFormats.VllmBench,
        Shape.AiPerf => MeasurementFormats.AiPerf,
        Shape.GuideLlm => MeasurementFormats.GuideLlm,
        _ => throw new InvalidOperationException($"no name for {shape}"),
    };

    private static StreamReader OpenText(string path) => new(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);

    /// <summary>Looks at the first non-blank line: JSON or not, and for a one-line object, whose it is.</summary>
    private static Shape Detect(string path, string file)
    {
        using var text = OpenText(path);
        string? first;
        do
        {
            first = text.ReadLine();
        }
        while (first is not null && string.IsNullOrWhiteSpace(first));

        if (first is null)
        {
            throw new CalibrationInputException($"{file}: the file is empty: no measurements.");
        }

        var trimmed = first.TrimStart();
        if (!trimmed.StartsWith('{') && !trimmed.StartsWith('['))
        {
            return Shape.Csv;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(first);
        }
        catch (JsonException)
        {
            return Shape.Document; // a document spread over many lines
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && OwnColumns.AnyKnown(root.EnumerateObject().Select(p => p.Name)))
            {
                return Shape.OwnJsonl;
            }

            // vLLM writes its result on one line, and --append-result adds one line per run.
            return VllmBenchReader.Looks(root) ? Shape.VllmLines : Shape.Document;
        }
    }

    private static void ReadVllmLines(string path, MeasurementSink sink)
    {
        using var text = OpenText(path);
        var lines = new List<(int Number, string Text)>();
        var lineNumber = 0;
        while (text.ReadLine() is { } line)
        {
            lineNumber++;
            if (!string.IsNullOrWhiteSpace(line))
            {
                lines.Add((lineNumber, line));
            }
        }

        foreach (var (number, line) in lines)
        {
            // One result alone is named by file; appended results by file:line.
            var location = lines.Count == 1 ? sink.File : $"{sink.File}:{number}";
            using var document = OwnFormatReaders.ParseLine(line, location);
            if (!VllmBenchReader.Looks(document.RootElement))
            {
                throw new CalibrationInputException($"{location}: not a vllm bench serve result (needs completed and mean_ttft_ms or ttfts).");
            }

            VllmBenchReader.Read(document.RootElement, location, sink);
        }
    }

    private static Shape ReadDocument(string path, MeasurementSink sink)
    {
        var length = new FileInfo(path).Length;
        if (length > MaxJsonDocumentBytes)
        {
            throw new CalibrationInputException(
                $"{sink.File}: {length:N0} bytes; a JSON document is read whole and the limit is {MaxJsonDocumentBytes:N0} bytes.");
        }

        JsonDocument document;
        using (var stream = File.OpenRead(path))
        {
            try
            {
                document = JsonDocument.Parse(stream);
            }
            catch (JsonException e)
            {
                throw new CalibrationInputException(
                    $"{sink.File}:{(e.LineNumber ?? 0) + 1}: not valid JSON: {e.Message}");
            }
        }

        using (document)
        {
            var root = document.RootElement;
            if (VllmBenchReader.Looks(root))
            {
                VllmBenchReader.Read(root, sink.File, sink);
                return Shape.Vllm;
            }

            if (AiPerfReader.Looks(root))
            {
                AiPerfReader.Read(root, sink);
                return Shape.AiPerf;
            }

            if (GuideLlmReader.Looks(root))
            {
                GuideLlmReader.Read(root, sink);
                return Shape.GuideLlm;
            }

            throw new CalibrationInputException($"{sink.File}: not a measurement file we know. {Tried}");
        }
    }
}
