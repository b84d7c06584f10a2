using System.CommandLine;
using System.Globalization;

using MockServe.Core.Calibration;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Configuration;

using Spectre.Console;

namespace MockServe.Server.Cli;

/// <summary>
/// <c>mockserve calibrate</c>: fits the efficiency (utilisations and host time) to a team's own measurements, by
/// least squares on the cost model's formulas, and writes an efficiency file that serve, simulate and capacity take.
/// </summary>
internal static class CalibrateCommand
{
    /// <summary>Residual rows a table shows, worst first; JSON has them all.</summary>
    public const int DefaultResidualRows = 40;

    /// <summary>The deployment measured: the profile settings (the efficiency set gives the start and overlapHostTime), and the engine's chunk size.</summary>
    public static IReadOnlyList<SettingsSection> Sections { get; } = [Settings.Profile, Settings.Engine];

    public static Command Create(SettingSources sources)
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "Measurement files: CSV or JSONL of steps or requests, vLLM bench serve results, AIPerf profile_export_aiperf.json, guidellm benchmarks.json.",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<FileInfo>("--output")
        {
            Description = "The efficiency file to write (.yaml): serve, estimate, simulate and capacity take it with --efficiency FILE.",
            HelpName = "FILE",
            DefaultValueFactory = _ => new FileInfo("efficiency.yaml"),
        };
        var residualRows = new Option<int>("--residuals")
        {
            Description = "Residual rows the table shows, worst first (0: none); --format json lists every one.",
            HelpName = "N",
            DefaultValueFactory = _ => DefaultResidualRows,
        };
        var format = OutputFormats.CreateOption();

        var command = new Command(
            "calibrate",
            "Fit prefill and decode utilisation and host overheads to measured steps or requests, and write an efficiency file.");
        command.Arguments.Add(files);
        SettingsFlags.AddTo(command, Sections);
        command.Options.Add(output);
        command.Options.Add(residualRows);
        command.Options.Add(format);
        command.SetAction(parseResult =>
        {
            Deployment deployment;
            EngineOptions engine;
            using (var settings = SettingsFlags.Load(parseResult, sources, Sections))
            {
                deployment = settings.Get<ProfileOptions>().ToDeployment();
                engine = settings.Get<EngineOptions>();
            }

            int rows = parseResult.GetValue(residualRows);
            if (rows < 0)
            {
                return CliApp.Fail(parseResult, $"--residuals: must be 0 or more, got {rows}");
            }

            var sets = new List<MeasurementSet>();
            try
            {
                foreach (string path in parseResult.GetValue(files)!)
                {
                    sets.Add(MeasurementReader.Read(path));
                }
            }
            catch (CalibrationInputException ex)
            {
                return CliApp.Fail(parseResult, ex.Message);
            }

            var measurements = sets.SelectMany(s => s.Measurements).ToList();
            var options = new CalibrationOptions
            {
                MaxBatchedTokens = (int)Math.Min(engine.MaxBatchedTokens, int.MaxValue),
                Source = string.Join(", ", sets.Select(s => Path.GetFileName(s.Path))),
                Date = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime),
            };
            CalibrationResult result;
            try
            {
                result = Calibrator.Fit(deployment, measurements, options);
            }
            catch (Exception ex) when (ex is CalibrationInputException or ArgumentException)
            {
                return CliApp.Fail(parseResult, ex.Message.Split(" (Parameter")[0]);
            }

            var file = parseResult.GetValue(output)!;
            File.WriteAllText(file.FullName, EfficiencyFile.ToYaml(result.Efficiency, Comment(deployment, sets, result)));
            Write(CliApp.Out(parseResult), deployment, sets, result, file.FullName, rows, parseResult.GetValue(format));
            return CliApp.ExitOk;
        });
        return command;
    }

    public static void Write(
        TextWriter writer, Deployment deployment, IReadOnlyList<MeasurementSet> sets, CalibrationResult result, string written, int rows, OutputFormat format)
    {
        if (format == OutputFormat.Json)
        {
            OutputFormats.WriteJson(writer, new
            {
                Model = deployment.Model.Id,
                Gpu = deployment.Gpu.Id,
                Tp = deployment.TensorParallel,
                WeightBits = deployment.WeightBytesPerParameter * 8,
                Inputs = sets.Select(s => new { s.Path, s.Format, Measurements = s.Measurements.Count, s.Skipped }),
                Parameters = result.Parameters.Select(p => new
                {
                    Name = Field(p.Parameter),
                    p.Value,
                    p.StandardError,
                    p.Determined,
                    p.NotDeterminedReason,
                }),
                result.Efficiency,
                result.RmsRelativeResidual,
                result.Iterations,
                result.Converged,
                Warnings = Warnings(result),
                Residuals = result.Residuals.Select(r => new { r.Source, Quantity = r.Quantity.ToString().ToLowerInvariant(), r.Observed, r.Predicted, r.Relative }),
                Written = written,
            });
            return;
        }

        foreach (var set in sets)
        {
            writer.WriteLine($"{set.Path}: {set.Format}, {Units.Count(set.Measurements.Count)} measurements"
                + (set.Skipped > 0 ? $" ({Units.Count(set.Skipped)} failed or empty records skipped)" : ""));
        }

        writer.WriteLine($"{deployment.Model.Id} on {deployment.TensorParallel} x {deployment.Gpu.Id}, "
            + $"{Units.Number(deployment.WeightBytesPerParameter * 8)}-bit weights, host time {(deployment.Efficiency.OverlapHostTime ? "overlapped with" : "added to")} the GPU's");
        var parameters = ConsoleTable.Create("Parameter", "Value", "+-", "").RightAlign(1, 2);
        foreach (var p in result.Parameters)
        {
            parameters.AddRow(
                Field(p.Parameter),
                Show(p.Parameter, p.Value),
                p.StandardError is { } se ? Show(p.Parameter, se) : "",
                p.Determined ? "" : Markup.Escape($"not determined, kept: {p.NotDeterminedReason}"));
        }

        ConsoleTable.Write(writer, parameters);
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RMS relative residual {Units.Percent(result.RmsRelativeResidual)} over {Units.Count(result.Residuals.Count)} quantities; {result.Iterations} iterations{(result.Converged ? "" : ", NOT converged")}"));
        foreach (string warning in Warnings(result))
        {
            writer.WriteLine($"warning: {warning}");
        }

        if (rows > 0)
        {
            var worst = result.Residuals.OrderByDescending(r => Math.Abs(r.Relative)).Take(rows).ToList();
            var table = ConsoleTable.Create("Measurement", "Quantity", "Observed", "Predicted", "Residual").RightAlign(2, 3, 4);
            foreach (var r in worst)
            {
                // Sources are JSON paths ("$.ttfts[3]"): brackets are markup to Spectre.
                table.AddRow(Markup.Escape(r.Source), r.Quantity.ToString().ToLowerInvariant(), Units.Seconds(r.Observed), Units.Seconds(r.Predicted), Signed(r.Relative));
            }

            ConsoleTable.Write(writer, table);
            if (worst.Count < result.Residuals.Count)
            {
                writer.WriteLine($"(the {worst.Count} largest of {Units.Count(result.Residuals.Count)} residuals; --residuals N or --format json for more)");
            }
        }

        writer.WriteLine($"wrote {written}: use it with --efficiency {written}");
    }

    /// <summary>
    /// What makes the fit suspect: no convergence, or a utilisation pinned at 1, which means the measurements are faster
    /// than the datasheet allows for this deployment (another model, GPU, TP or weight precision was measured).
    /// </summary>
    private static List<string> Warnings(CalibrationResult result)
    {
        var warnings = new List<string>();
        if (!result.Converged)
        {
            warnings.Add($"the fit did not converge in {result.Iterations} iterations: the values are the last ones tried");
        }

        foreach (var p in result.Parameters.Where(p => p.Determined && p.Value >= 0.999
            && p.Parameter is CalibrationParameter.PrefillComputeUtilization or CalibrationParameter.DecodeBandwidthUtilization))
        {
            warnings.Add($"{Field(p.Parameter)} is at its bound 1: the measurements are faster than the datasheet allows "
                + "for this deployment; check --model, --gpu, --tp and --weight-bits against what was measured");
        }

        return warnings;
    }

    private static IEnumerable<string> Comment(Deployment deployment, IReadOnlyList<MeasurementSet> sets, CalibrationResult result)
    {
        yield return $"mockserve calibrate: {deployment.Model.Id} on {deployment.TensorParallel} x {deployment.Gpu.Id}, {Units.Number(deployment.WeightBytesPerParameter * 8)}-bit weights";
        foreach (var set in sets)
        {
            yield return $"from {set.Path} ({set.Format}, {set.Measurements.Count} measurements)";
        }

        foreach (var p in result.Parameters)
        {
            yield return p.ToString();
        }

        yield return string.Create(CultureInfo.InvariantCulture, $"RMS relative residual {result.RmsRelativeResidual:G3}");
    }

    // The efficiency file's field name of a parameter.
    private static string Field(CalibrationParameter parameter) => parameter switch
    {
        CalibrationParameter.PrefillComputeUtilization => "prefillComputeUtilization",
        CalibrationParameter.DecodeBandwidthUtilization => "decodeBandwidthUtilization",
        CalibrationParameter.StepOverheadSeconds => "stepOverheadSeconds",
        CalibrationParameter.StepOverheadPerSequenceSeconds => "stepOverheadPerSequenceSeconds",
        _ => "requestOverheadSeconds",
    };

    private static string Show(CalibrationParameter parameter, double value) =>
        parameter is CalibrationParameter.PrefillComputeUtilization or CalibrationParameter.DecodeBandwidthUtilization
            ? value.ToString("0.####", CultureInfo.InvariantCulture)
            : Units.Seconds(value);

    private static string Signed(double fraction) => (fraction >= 0 ? "+" : "") + Units.Percent(fraction);
}
