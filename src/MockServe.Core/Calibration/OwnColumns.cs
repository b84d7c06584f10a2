using System.Globalization;

namespace MockServe.Core.Calibration;

/// <summary>
/// Our own documented columns, shared by the CSV and JSON Lines formats. A file holds either steps or requests.
/// Steps: <c>batch_size, context_tokens, prefill_tokens</c> and one of <c>step_ms</c> / <c>step_seconds</c>.
/// Requests: <c>prompt_tokens, output_tokens</c>, one of <c>ttft_ms</c> / <c>ttft_seconds</c>, one of
/// <c>itl_ms</c> / <c>itl_seconds</c>, and optionally <c>concurrency</c>.
/// </summary>
internal static class OwnColumns
{
    public static readonly string[] StepColumns = ["batch_size", "context_tokens", "prefill_tokens", "step_ms", "step_seconds"];

    public static readonly string[] RequestColumns =
        ["prompt_tokens", "output_tokens", "ttft_ms", "ttft_seconds", "itl_ms", "itl_seconds", "concurrency"];

    public const string StepsDescription = "batch_size, context_tokens, prefill_tokens, step_ms or step_seconds";

    public const string RequestsDescription =
        "prompt_tokens, output_tokens, ttft_ms or ttft_seconds, itl_ms or itl_seconds, optional concurrency";

    /// <summary>True when at least one name is one of our columns: the file is meant to be ours.</summary>
    public static bool AnyKnown(IEnumerable<string> names) =>
        names.Any(n => StepColumns.Contains(n) || RequestColumns.Contains(n));

    /// <summary>
    /// Decides steps or requests from the column names, refusing unknown, mixed, doubled or missing columns.
    /// <paramref name="where"/> is the file and line that named them.
    /// </summary>
    public static MeasurementKind KindOf(IReadOnlyCollection<string> names, string where)
    {
        var isStep = names.Any(StepColumns.Contains);
        var isRequest = names.Any(RequestColumns.Contains);
        if (isStep && isRequest)
        {
            throw new CalibrationInputException(
                $"{where}: mixes step columns ({string.Join(", ", names.Where(StepColumns.Contains))}) and request columns "
                + $"({string.Join(", ", names.Where(RequestColumns.Contains))}): put steps and requests in separate files.");
        }

        var kind = isStep ? MeasurementKind.Step : MeasurementKind.Request;
        CheckNames(kind, names, where);
        return kind;
    }

    /// <summary>Refuses unknown, doubled and missing columns for a file of <paramref name="kind"/>.</summary>
    public static void CheckNames(MeasurementKind kind, IReadOnlyCollection<string> names, string where)
    {
        var known = kind == MeasurementKind.Step ? StepColumns : RequestColumns;
        var description = kind == MeasurementKind.Step ? StepsDescription : RequestsDescription;
        var unknown = names.Where(n => !known.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            throw new CalibrationInputException(
                $"{where}: unknown column{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown)}; "
                + $"a {(kind == MeasurementKind.Step ? "steps" : "requests")} file has {description}.");
        }

        var duplicate = names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new CalibrationInputException($"{where}: column {duplicate.Key} appears twice.");
        }

        string[][] required = kind == MeasurementKind.Step
            ? [["batch_size"], ["context_tokens"], ["prefill_tokens"], ["step_ms", "step_seconds"]]
            : [["prompt_tokens"], ["output_tokens"], ["ttft_ms", "ttft_seconds"], ["itl_ms", "itl_seconds"]];
        foreach (var choices in required)
        {
            var present = choices.Count(names.Contains);
            if (present == 0)
            {
                throw new CalibrationInputException(
                    $"{where}: missing column {string.Join(" or ", choices)}; a {(kind == MeasurementKind.Step ? "steps" : "requests")} file has {description}.");
            }

            if (present > 1)
            {
                throw new CalibrationInputException($"{where}: give either {choices[0]} or {choices[1]}, not both.");
            }
        }
    }

    /// <summary>Builds one measurement from values already parsed as numbers (null: the cell is empty or absent).</summary>
    public static Measurement Build(MeasurementKind kind, IReadOnlyDictionary<string, double?> values, string where)
    {
        if (kind == MeasurementKind.Step)
        {
            var batch = Whole(values, "batch_size", 1, where);
            if (batch > int.MaxValue)
            {
                throw new CalibrationInputException($"{where}: column batch_size: {batch} is too large.");
            }

            return new Measurement
            {
                Kind = MeasurementKind.Step,
                Source = where,
                BatchSize = (int)batch,
                ContextTokens = Whole(values, "context_tokens", 0, where),
                PrefillTokens = Whole(values, "prefill_tokens", 0, where),
                StepSeconds = Seconds(values, "step", positive: true, where),
            };
        }

        return new Measurement
        {
            Kind = MeasurementKind.Request,
            Source = where,
            PromptTokens = Whole(values, "prompt_tokens", 1, where),
            OutputTokens = Whole(values, "output_tokens", 1, where),
            TtftSeconds = Seconds(values, "ttft", positive: true, where),
            ItlSeconds = Seconds(values, "itl", positive: false, where),
            Concurrency = values.TryGetValue("concurrency", out var c) && c is { } concurrency
                ? (concurrency > 0 ? concurrency : throw Bad(where, "concurrency", $"{Show(concurrency)} is not a positive number"))
                : null,
        };
    }

    private static long Whole(IReadOnlyDictionary<string, double?> values, string column, long min, string where)
    {
        var value = Required(values, column, where);
        if (value != Math.Floor(value) || value > long.MaxValue)
        {
            throw Bad(where, column, $"{Show(value)} is not a whole number");
        }

        return value >= min ? (long)value : throw Bad(where, column, $"{Show(value)} is less than {min}");
    }

    private static double Seconds(IReadOnlyDictionary<string, double?> values, string stem, bool positive, string where)
    {
        var column = values.ContainsKey(stem + "_ms") ? stem + "_ms" : stem + "_seconds";
        var value = Required(values, column, where);
        if (positive ? value <= 0 : value < 0)
        {
            throw Bad(where, column, $"{Show(value)} is not a {(positive ? "positive" : "non-negative")} number");
        }

        return column.EndsWith("_ms", StringComparison.Ordinal) ? value / 1000.0 : value;
    }

    private static double Required(IReadOnlyDictionary<string, double?> values, string column, string where) =>
        values.TryGetValue(column, out var value) && value is { } v ? v : throw Bad(where, column, "empty");

    public static CalibrationInputException Bad(string where, string column, string problem) =>
        new($"{where}: column {column}: {problem}");

    private static string Show(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
