namespace MockServe.LoadTests.Simulations;

/// <summary>
/// A load simulation argument out of its range. The message names the simulation, the parameter, the value and what
/// is allowed, e.g. <c>Inject: rate must be greater than 0 and at most 100000 per second; got -1.</c>
/// </summary>
public sealed class InvalidLoadSimulationException : ArgumentException
{
    public InvalidLoadSimulationException(string simulation, string paramName, object? actualValue, string allowed)
        : base($"{simulation}: {paramName} must be {allowed}; got {Format(actualValue)}.", paramName)
    {
        Simulation = simulation;
        ActualValue = actualValue;
        Allowed = allowed;
    }

    /// <summary>The simulation kind, e.g. <c>Inject</c>.</summary>
    public string Simulation { get; }

    /// <summary>The refused value.</summary>
    public object? ActualValue { get; }

    /// <summary>The allowed range, in words.</summary>
    public string Allowed { get; }

    // ArgumentException appends " (Parameter 'x')"; the text above already names it, and CLI users read this line.
    public override string Message => $"{Simulation}: {ParamName} must be {Allowed}; got {Format(ActualValue)}.";

    private static string Format(object? value) => value switch
    {
        null => "nothing",
        TimeSpan t => Ticks.Describe(t),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

}
