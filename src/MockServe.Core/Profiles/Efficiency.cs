namespace MockServe.Core.Profiles;

/// <summary>Fractions of the datasheet peaks a real kernel reaches; 1.0 is the theoretical peak.</summary>
public sealed record Efficiency
{
    public double PrefillComputeUtilization { get; init; } = 1.0;

    public double DecodeBandwidthUtilization { get; init; } = 1.0;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        Fraction(errors, "prefillComputeUtilization", PrefillComputeUtilization);
        Fraction(errors, "decodeBandwidthUtilization", DecodeBandwidthUtilization);
        return errors;
    }

    internal static void Fraction(List<string> errors, string field, double value)
    {
        if (!(value > 0 && value <= 1))
        {
            errors.Add($"{field}: must be in (0, 1], got {value}");
        }
    }
}
