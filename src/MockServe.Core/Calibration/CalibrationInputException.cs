namespace MockServe.Core.Calibration;

/// <summary>
/// A measurement file that cannot be used. The message names the file, the line or JSON field path, and what is
/// wrong, e.g. <c>bench.json: $.ttfts[3]: expected a number, got "abc"</c>.
/// </summary>
public sealed class CalibrationInputException(string message) : Exception(message);
