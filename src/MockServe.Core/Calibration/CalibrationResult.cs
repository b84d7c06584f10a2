using System.Globalization;

using MockServe.Core.Engine;
using MockServe.Core.Profiles;

namespace MockServe.Core.Calibration;

/// <summary>Settings of one <see cref="Calibrator.Fit"/>.</summary>
public sealed record CalibrationOptions
{
    /// <summary>
    /// Token budget of one engine step of the measured server (vLLM's max_num_batched_tokens): how a prompt is split
    /// into prefill chunks when TTFT is predicted. Defaults to <see cref="EngineOptions.MaxBatchedTokens"/>'s default.
    /// </summary>
    public int MaxBatchedTokens { get; init; } = new EngineOptions().MaxBatchedTokens;

    /// <summary>Where the measurements come from (a file name), written into the fitted <see cref="Efficiency.Source"/>.</summary>
    public string Source { get; init; } = "measurements";

    /// <summary>The day of the calibration, written into <see cref="Efficiency.Source"/> when given (the caller owns the clock).</summary>
    public DateOnly? Date { get; init; }

    /// <summary>Levenberg-Marquardt iterations allowed before the fit is reported as not converged.</summary>
    public int MaxIterations { get; init; } = 500;
}

/// <summary>The parameters of <see cref="Efficiency"/> a calibration can fit.</summary>
public enum CalibrationParameter
{
    /// <summary><see cref="Efficiency.PrefillComputeUtilization"/> (u_p).</summary>
    PrefillComputeUtilization,

    /// <summary><see cref="Efficiency.DecodeBandwidthUtilization"/> (u_d).</summary>
    DecodeBandwidthUtilization,

    /// <summary><see cref="Efficiency.StepOverheadSeconds"/> (h0).</summary>
    StepOverheadSeconds,

    /// <summary><see cref="Efficiency.StepOverheadPerSequenceSeconds"/> (h1).</summary>
    StepOverheadPerSequenceSeconds,

    /// <summary><see cref="Efficiency.RequestOverheadSeconds"/> (r).</summary>
    RequestOverheadSeconds,
}

/// <summary>The quantity one residual of a calibration compares.</summary>
public enum CalibratedQuantity
{
    /// <summary>A step's duration (a <see cref="MeasurementKind.Step"/> measurement).</summary>
    Step,

    /// <summary>Time to first token of a request or summary.</summary>
    Ttft,

    /// <summary>Mean inter-token latency of a request or summary.</summary>
    Itl,
}

/// <summary>One fitted (or kept) parameter.</summary>
/// <param name="Parameter">Which one.</param>
/// <param name="Value">The value in the fitted <see cref="Efficiency"/>: a fraction for utilisations, seconds for overheads.</param>
/// <param name="StandardError">
/// Its standard error from the covariance s^2 (J^T J)^-1 at the minimum, s^2 = RSS / (n - p); null when not determined or
/// when there are exactly as many residuals as fitted parameters.
/// </param>
/// <param name="NotDeterminedReason">Why the data cannot determine it (its value is then kept); null when fitted.</param>
public sealed record ParameterEstimate(
    CalibrationParameter Parameter,
    double Value,
    double? StandardError,
    string? NotDeterminedReason)
{
    /// <summary>Whether the measurements determined the value (else it was kept).</summary>
    public bool Determined => NotDeterminedReason is null;

    /// <summary>One line for a report: <c>DecodeBandwidthUtilization = 0.7012 +- 0.0051</c> or <c>... not determined (kept at 1): why</c>.</summary>
    public override string ToString() => Determined
        ? string.Create(CultureInfo.InvariantCulture, $"{Parameter} = {Value:G6} +- {StandardError?.ToString("G3", CultureInfo.InvariantCulture) ?? "n/a"}")
        : string.Create(CultureInfo.InvariantCulture, $"{Parameter} not determined (kept at {Value:G6}): {NotDeterminedReason}");
}

/// <summary>One measured quantity and the fitted model's prediction of it.</summary>
/// <param name="Source">The measurement's <see cref="Measurement.Source"/>.</param>
/// <param name="Quantity">What is compared.</param>
/// <param name="Observed">Measured seconds.</param>
/// <param name="Predicted">Seconds the cost model predicts with the fitted efficiency.</param>
public sealed record CalibrationResidual(string Source, CalibratedQuantity Quantity, double Observed, double Predicted)
{
    /// <summary>(predicted - observed) / observed: what the fit minimises the squares of.</summary>
    public double Relative => (Predicted - Observed) / Observed;
}

/// <summary>What <see cref="Calibrator.Fit"/> found.</summary>
/// <param name="Efficiency">The deployment's efficiency with the fitted values and a <see cref="Efficiency.Source"/> saying so.</param>
/// <param name="Parameters">Every fittable parameter, fitted or kept, in <see cref="CalibrationParameter"/> order.</param>
/// <param name="Residuals">Every compared quantity, in measurement order.</param>
/// <param name="RmsRelativeResidual">Root mean square of the relative residuals at the minimum.</param>
/// <param name="Iterations">Levenberg-Marquardt iterations used.</param>
/// <param name="Converged">False when the solver stopped at its iteration limit or on invalid values.</param>
public sealed record CalibrationResult(
    Efficiency Efficiency,
    IReadOnlyList<ParameterEstimate> Parameters,
    IReadOnlyList<CalibrationResidual> Residuals,
    double RmsRelativeResidual,
    int Iterations,
    bool Converged)
{
    /// <summary>The estimate of one parameter.</summary>
    public ParameterEstimate this[CalibrationParameter parameter] => Parameters[(int)parameter];
}
