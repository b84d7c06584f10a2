using System.CommandLine;

using MockServe.Core.CostModel;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Configuration;

using Spectre.Console;

namespace MockServe.Server.Cli;

/// <summary><c>mockserve estimate</c>: the cost model's figures for one context length.</summary>
internal static class EstimateCommand
{
    public const long DefaultContextTokens = 50_000;
    public const long DefaultDecodeTokens = 1;

    /// <summary>Estimate prices a deployment: the profile settings only.</summary>
    public static IReadOnlyList<SettingsSection> Sections { get; } = [Settings.Profile];

    public static Command Create(SettingSources sources)
    {
        var context = TokenCountOption.Create(
            "--context", "Tokens in the context (the prompt), 1 to the model's maxContext.", DefaultContextTokens);
        var decodeTokens = TokenCountOption.Create(
            "--decode-tokens", "Tokens to decode after the context, 1 to the model's maxContext.", DefaultDecodeTokens, "N");
        var format = OutputFormats.CreateOption();

        var command = new Command(
            "estimate",
            "Price one request with the roofline cost model: KV bytes, users that fit, prefill, decode and swap times.");
        SettingsFlags.AddTo(command, Sections);
        command.Options.Add(context);
        command.Options.Add(decodeTokens);
        command.Options.Add(format);
        command.SetAction(parseResult =>
        {
            Deployment built;
            using (var settings = SettingsFlags.Load(parseResult, sources, Sections))
            {
                built = settings.Get<ProfileOptions>().ToDeployment();
            }

            long contextTokens = parseResult.GetValue(context);
            long decode = parseResult.GetValue(decodeTokens);
            // The same limits as the Estimate RPC's, named as flags here.
            if (RequestLimits.CheckEstimate(built.Model, contextTokens, decode) is { } error)
            {
                string flag = error.Field == RequestLimits.ContextTokens ? context.Name : decodeTokens.Name;
                return CliApp.Fail(parseResult, $"{flag}: {error.Problem}");
            }

            Write(CliApp.Out(parseResult), built, contextTokens, decode, parseResult.GetValue(format));
            return CliApp.ExitOk;
        });
        return command;
    }

    public static void Write(TextWriter writer, Deployment deployment, long contextTokens, long decodeTokens, OutputFormat format)
    {
        var summary = new GpuCostModel(deployment).Summarize(contextTokens, decodeTokens);
        if (format == OutputFormat.Json)
        {
            OutputFormats.WriteJson(writer, new EstimateResult(
                Model: deployment.Model.Id,
                Gpu: deployment.Gpu.Id,
                Tp: deployment.TensorParallel,
                ContextTokens: contextTokens,
                DecodeTokens: decodeTokens,
                KvBytesPerToken: summary.KvBytesPerToken,
                KvBytes: summary.KvBytes,
                WeightBytes: summary.WeightBytes,
                KvCapacityBytes: summary.KvCapacityBytes,
                MaxConcurrentUsers: summary.MaxConcurrentUsers,
                PrefillSeconds: summary.PrefillSeconds,
                DecodeSecondsPerToken: summary.DecodeSecondsPerToken,
                DecodeSeconds: summary.DecodeSeconds,
                ContextSwitchSeconds: summary.ContextSwitchSeconds,
                WeightBits: deployment.WeightBytesPerParameter * 8,
                Efficiency: deployment.Efficiency));
            return;
        }

        writer.WriteLine($"{deployment.Model.Id} on {deployment.TensorParallel} x {deployment.Gpu.Id}, {Units.Count(contextTokens)}-token context");
        var table = ConsoleTable.Create("Metric", "Value", "").RightAlign(1);
        table.AddRow("KV per token", Units.Bytes(summary.KvBytesPerToken), "all layers, after compression");
        table.AddRow("KV per context", Units.Bytes(summary.KvBytes), $"{Units.Count(contextTokens)} tokens");
        table.AddRow("Weights", Units.Bytes(summary.WeightBytes), $"{Units.Number(deployment.WeightBytesPerParameter * 8)}-bit, resident across the group");
        table.AddRow("KV capacity", Units.Bytes(summary.KvCapacityBytes), "HBM - weights - activation reserve");
        table.AddRow("Max concurrent users", Units.Count(summary.MaxConcurrentUsers), "whole contexts resident at once");
        table.AddRow("Prefill", Units.Seconds(summary.PrefillSeconds), "whole context, nothing cached");
        table.AddRow("Decode per token", Units.Seconds(summary.DecodeSecondsPerToken), "one sequence alone");
        table.AddRow("Decode", Units.Seconds(summary.DecodeSeconds), $"{Units.Count(decodeTokens)} token(s)");
        table.AddRow("Context switch", Units.Seconds(summary.ContextSwitchSeconds), "KV one way over the host link");
        var e = deployment.Efficiency;
        table.AddRow(
            "Efficiency",
            $"{Units.Percent(e.PrefillComputeUtilization)} / {Units.Percent(e.DecodeBandwidthUtilization)}",
            $"of peak {(deployment.ComputesInFp8 ? "FP8" : "BF16")} FLOP/s / HBM bandwidth{HostText(e)}");
        ConsoleTable.Write(writer, table);
    }

    /// <summary>
    /// One line on how the deployment departs from the datasheet: "16-bit weights, peak efficiency (datasheet roofline,
    /// no host time)" or "8-bit weights (FP8 compute), efficiency: prefill 50% of peak FLOP/s, decode 60% of HBM
    /// bandwidth; host 8 ms a step, overlapped".
    /// </summary>
    public static string PrecisionAndEfficiency(Deployment deployment)
    {
        var e = deployment.Efficiency;
        string weights = $"{Units.Number(deployment.WeightBytesPerParameter * 8)}-bit weights{(deployment.ComputesInFp8 ? " (FP8 compute)" : "")}";
        return e == Efficiency.Peak
            ? $"{weights}, peak efficiency (datasheet roofline, no host time)"
            : $"{weights}, efficiency: prefill {Units.Percent(e.PrefillComputeUtilization)} of peak FLOP/s, "
                + $"decode {Units.Percent(e.DecodeBandwidthUtilization)} of HBM bandwidth{HostText(e)}";
    }

    private static string HostText(Efficiency e) =>
        (e.HostStepSeconds(1) > 0 ? $"; host {Units.Seconds(e.HostStepSeconds(1))} a step{(e.OverlapHostTime ? ", overlapped" : "")}" : "")
        + (e.RequestOverheadSeconds > 0 ? $", {Units.Seconds(e.RequestOverheadSeconds)} a request" : "");

    /// <summary>The JSON shape of an estimate; <see cref="CostSummary"/>'s fields plus what was priced.</summary>
    internal sealed record EstimateResult(
        string Model,
        string Gpu,
        int Tp,
        long ContextTokens,
        long DecodeTokens,
        double KvBytesPerToken,
        double KvBytes,
        double WeightBytes,
        double KvCapacityBytes,
        long MaxConcurrentUsers,
        double PrefillSeconds,
        double DecodeSecondsPerToken,
        double DecodeSeconds,
        double ContextSwitchSeconds,
        double WeightBits,
        Efficiency Efficiency);
}
