using System.CommandLine;

using MockServe.Core.CostModel;
using MockServe.Core.Profiles;

using Spectre.Console;

namespace MockServe.Server.Cli;

/// <summary><c>mockserve profiles</c>: the built-in model and GPU presets.</summary>
internal static class ProfilesCommand
{
    public static Command Create()
    {
        var format = OutputFormats.CreateOption();
        format.Description = "Output format: table, or json (the presets in the profile file format, a starting point for a custom file).";
        var command = new Command("profiles", "List the built-in model and GPU presets with their key figures.")
        {
            format,
        };
        command.SetAction(parseResult =>
        {
            Write(CliApp.Out(parseResult), parseResult.GetValue(format));
            return CliApp.ExitOk;
        });
        return command;
    }

    public static void Write(TextWriter writer, OutputFormat format)
    {
        if (format == OutputFormat.Json)
        {
            OutputFormats.WriteJson(writer, new { models = Presets.Models, gpus = Presets.Gpus });
            return;
        }

        var models = ConsoleTable.Create("Model", "Layers", "Params", "Active", "Attention", "KV/token", "Context")
            .RightAlign(1, 2, 3, 5, 6);
        foreach (var model in Presets.Models)
        {
            models.AddRow(
                model.Id,
                Units.Count(model.Layers),
                Units.Parameters(model.TotalParameters),
                Units.Parameters(model.ActiveParameters),
                model.Attention.ToString().ToUpperInvariant(),
                Units.Bytes(KvBytesPerToken(model)),
                Units.Count(model.MaxContext));
        }

        var gpus = ConsoleTable.Create("GPU", "HBM GiB", "HBM TB/s", "BF16 TFLOP/s", "FP8 TFLOP/s", "Host GB/s", "GPU-GPU GB/s", "GPUs")
            .RightAlign(1, 2, 3, 4, 5, 6, 7);
        foreach (var gpu in Presets.Gpus)
        {
            gpus.AddRow(
                gpu.Id,
                Units.Number(gpu.HbmBytes / (1024.0 * 1024 * 1024)),
                Units.Number(gpu.HbmBandwidth / 1e12),
                Units.Number(gpu.PeakFlops / 1e12),
                gpu.PeakFlopsFp8 > 0 ? Units.Number(gpu.PeakFlopsFp8 / 1e12) : "-",
                Units.Number(gpu.HostLinkBandwidth / 1e9),
                Units.Number(gpu.InterconnectBandwidth / 1e9),
                Units.Count(gpu.GpuCount));
        }

        ConsoleTable.Write(writer, models);
        writer.WriteLine();
        ConsoleTable.Write(writer, gpus);
    }

    // KV bytes per token depend on the model only (and compression); any GPU will do for the cost model.
    private static double KvBytesPerToken(ModelProfile model) =>
        new GpuCostModel(Presets.DefaultDeployment with { Model = model }).KvBytesPerToken;
}
