using System.Globalization;
using System.Text;

namespace MockServe.Core.Profiles;

/// <summary>
/// An efficiency set in a file (JSON or YAML, camelCase fields as <see cref="Efficiency"/>'s properties), read with
/// the profile files' rules: unknown fields, values of the wrong type and values out of range are refused with the
/// file, the line and the field. <c>mockserve calibrate</c> writes one; <c>--efficiency FILE</c> reads it.
/// </summary>
public static class EfficiencyFile
{
    private static readonly Efficiency Defaults = Efficiency.Peak;

    /// <summary>The fields an efficiency file may contain; any may be left out (the peak's value is taken).</summary>
    public static IReadOnlyList<string> Fields { get; } =
    [
        "prefillComputeUtilization", "decodeBandwidthUtilization", "stepOverheadSeconds", "stepOverheadPerSequenceSeconds",
        "overlapHostTime", "requestOverheadSeconds", "finishOverheadSeconds", "source",
    ];

    /// <exception cref="ProfileException">The file cannot be read or holds a field it should not.</exception>
    public static Efficiency Load(string path)
    {
        var (text, format) = ProfileLoader.Read(path);
        return Parse(text, format, path);
    }

    internal static Efficiency Parse(string text, ProfileFormat format, string source)
    {
        var fields = new ProfileFields(ProfileDocument.Parse(text, format, source), "efficiency", Fields);
        var efficiency = new Efficiency
        {
            PrefillComputeUtilization = fields.Double("prefillComputeUtilization") ?? Defaults.PrefillComputeUtilization,
            DecodeBandwidthUtilization = fields.Double("decodeBandwidthUtilization") ?? Defaults.DecodeBandwidthUtilization,
            StepOverheadSeconds = fields.Double("stepOverheadSeconds") ?? Defaults.StepOverheadSeconds,
            StepOverheadPerSequenceSeconds = fields.Double("stepOverheadPerSequenceSeconds") ?? Defaults.StepOverheadPerSequenceSeconds,
            OverlapHostTime = fields.Bool("overlapHostTime") ?? Defaults.OverlapHostTime,
            RequestOverheadSeconds = fields.Double("requestOverheadSeconds") ?? Defaults.RequestOverheadSeconds,
            FinishOverheadSeconds = fields.Double("finishOverheadSeconds") ?? Defaults.FinishOverheadSeconds,
            Source = fields.String("source") ?? source,
        };
        fields.AddValidationErrors(efficiency.Validate().Select(e => $"{e.Property}: {e.Problem}"));
        fields.ThrowIfAny();
        return efficiency;
    }

    /// <summary>The YAML text of <paramref name="efficiency"/>, every field written, <paramref name="comment"/> lines first.</summary>
    public static string ToYaml(Efficiency efficiency, IEnumerable<string>? comment = null)
    {
        ArgumentNullException.ThrowIfNull(efficiency);
        var text = new StringBuilder();
        foreach (string line in comment ?? [])
        {
            text.Append("# ").AppendLine(line);
        }

        Line(text, "prefillComputeUtilization", efficiency.PrefillComputeUtilization);
        Line(text, "decodeBandwidthUtilization", efficiency.DecodeBandwidthUtilization);
        Line(text, "stepOverheadSeconds", efficiency.StepOverheadSeconds);
        Line(text, "stepOverheadPerSequenceSeconds", efficiency.StepOverheadPerSequenceSeconds);
        text.Append("overlapHostTime: ").AppendLine(efficiency.OverlapHostTime ? "true" : "false");
        Line(text, "requestOverheadSeconds", efficiency.RequestOverheadSeconds);
        Line(text, "finishOverheadSeconds", efficiency.FinishOverheadSeconds);
        // A double-quoted YAML scalar: backslashes and quotes escaped, the rest as is.
        text.Append("source: \"").Append(efficiency.Source.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).AppendLine("\"");
        return text.ToString();
    }

    private static void Line(StringBuilder text, string field, double value) =>
        text.Append(field).Append(": ").AppendLine(value.ToString("R", CultureInfo.InvariantCulture));
}
