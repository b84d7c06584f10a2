namespace MockServe.Core.Profiles;

/// <summary>Fractions of the datasheet peaks a real kernel reaches; 1.0 is the theoretical peak.</summary>
public sealed record Efficiency
{
    public double PrefillComputeUtilization { get; init; } = 1.0;

    public double DecodeBandwidthUtilization { get; init; } = 1.0;

    public IReadOnlyList<SettingError> Validate()
    {
        var errors = new List<SettingError>();
        Fraction(errors, "prefillComputeUtilization", PrefillComputeUtilization);
        Fraction(errors, "decodeBandwidthUtilization", DecodeBandwidthUtilization);
        return errors;
    }

    internal static void Fraction(List<SettingError> errors, string field, double value)
    {
        if (!(value > 0 && value <= 1))
        {
            errors.Add(new SettingError(field, $"must be in (0, 1], got {value}"));
        }
    }
}
