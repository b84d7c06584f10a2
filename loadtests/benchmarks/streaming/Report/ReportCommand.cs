using System.CommandLine;
using System.Globalization;
using System.Text.Json;

using MockServe.Benchmarks.Streaming.Load;

namespace MockServe.Benchmarks.Streaming.Report;

/// <summary>
/// <c>report</c>: the mock and the baseline side by side for each stream count, with the ratios and the project's
/// targets, from the JSON files <c>client --json</c> wrote.
/// </summary>
internal static class ReportCommand
{
    // Targets the project set for the mock against the bare gRPC server.
    private const double CpuRatioTarget = 1.1;
    private const double RssBytesPerStreamTarget = 40_000;

    public static Command Create()
    {
        var mock = new Option<FileInfo[]>("--mock") { Description = "client --json files of the mock, one per stream count.", AllowMultipleArgumentsPerToken = true, Required = true };
        var baseline = new Option<FileInfo[]>("--baseline") { Description = "client --json files of the baseline, in the same order.", AllowMultipleArgumentsPerToken = true, Required = true };
        var command = new Command("report", "Print the mock against the baseline, with ratios and the project's targets.");
        command.Options.Add(mock);
        command.Options.Add(baseline);
        command.SetAction(parseResult =>
        {
            var mocks = parseResult.GetValue(mock)!;
            var baselines = parseResult.GetValue(baseline)!;
            if (mocks.Length != baselines.Length)
            {
                return BenchCli.Fail(parseResult, $"--mock and --baseline: give one file each per stream count, got {mocks.Length} and {baselines.Length}");
            }

            var output = parseResult.InvocationConfiguration.Output;
            var pairs = mocks.Zip(baselines, (m, b) => (Mock: Load(m), Baseline: Load(b))).ToList();
            foreach (var (m, b) in pairs)
            {
                output.Write(Table(m, b));
                output.WriteLine();
            }

            output.Write(MarginalRss(pairs));

            return BenchCli.ExitOk;
        });
        return command;
    }

    private static LoadReport Load(FileInfo file) =>
        JsonSerializer.Deserialize<LoadReport>(File.ReadAllText(file.FullName), LoadReport.Json)
        ?? throw new InvalidDataException($"{file.FullName}: not a client report");

    internal static string Table(LoadReport m, LoadReport b)
    {
        var c = CultureInfo.InvariantCulture;
        var rows = new List<(string Metric, double Mock, double Baseline, string Format)>
        {
            ("lateness p50 (ms)", m.LatenessUs.P50 / 1e3, b.LatenessUs.P50 / 1e3, "0.000"),
            ("lateness p99 (ms)", m.LatenessUs.P99 / 1e3, b.LatenessUs.P99 / 1e3, "0.000"),
            ("lateness p99.9 (ms)", m.LatenessUs.P999 / 1e3, b.LatenessUs.P999 / 1e3, "0.000"),
            ("lateness max (ms)", m.LatenessUs.Max / 1e3, b.LatenessUs.Max / 1e3, "0.000"),
            ("messages/s", m.MessagesPerSecond, b.MessagesPerSecond, "N0"),
            ("tokens/s", m.TokensPerSecond, b.TokensPerSecond, "N0"),
            ("server CPU s / M tokens", Cpu(m), Cpu(b), "0.00"),
            ("RSS per stream (KiB)", Rss(m), Rss(b), "0.0"),
            ("mean inter-token gap (ms)", m.MeanTokenGapMs, b.MeanTokenGapMs, "0.000"),
            ("mean TTFT (ms)", m.MeanTtftMs, b.MeanTtftMs, "0.000"),
            ("client CPU s in window", m.Client?.CpuSeconds ?? double.NaN, b.Client?.CpuSeconds ?? double.NaN, "0.00"),
            ("machine CPU busy (%)", (m.Client?.MachineBusy ?? double.NaN) * 100, (b.Client?.MachineBusy ?? double.NaN) * 100, "0"),
        };
        var s = new System.Text.StringBuilder();
        s.AppendLine(c, $"N = {m.Streams} streams: prompt {m.PromptTokens}, max_tokens {m.MaxTokens}{(m.IgnoreEos ? ", ignore_eos" : "")}; {m.WarmupSeconds:0.#} s warm-up, {m.WindowSeconds:0.#} s window");
        s.AppendLine(c, $"  {"Metric",-27}{"mock",14}{"baseline",14}{"mock/baseline",15}");
        foreach (var (metric, mock, baseline, format) in rows)
        {
            s.AppendLine(c, $"  {metric,-27}{Format(mock, format),14}{Format(baseline, format),14}{Format(mock / baseline, "0.00"),15}");
        }

        s.AppendLine(c, $"  errors: mock {Errors(m)}; baseline {Errors(b)}; tokens measured: mock {m.LatenessUs.Count:N0}, baseline {b.LatenessUs.Count:N0}");
        double cpuRatio = Cpu(m) / Cpu(b);
        s.AppendLine(c, $"  target CPU per token <= {CpuRatioTarget} x baseline: {cpuRatio:0.00} x  {Verdict(cpuRatio <= CpuRatioTarget)}");
        s.AppendLine(c, $"  target lateness p99 <= baseline: {m.LatenessUs.P99 / 1e3:0.000} ms against {b.LatenessUs.P99 / 1e3:0.000} ms  {Verdict(m.LatenessUs.P99 <= b.LatenessUs.P99)}");
        double rssBytes = Rss(m) * 1024;
        s.AppendLine(c, $"  target RSS <= 40 KB (40,000 bytes) per open stream: {rssBytes:N0} bytes  {Verdict(rssBytes <= RssBytesPerStreamTarget)}");
        return s.ToString();
    }

    /// <summary>
    /// RSS per stream from the slope between two stream counts: the idle-based figure also carries what the server
    /// grows by under any load (GC heaps sized to the allocation rate, thread pool, connection buffers), which the slope
    /// leaves out. Shown beside the target, never instead of it.
    /// </summary>
    internal static string MarginalRss(IReadOnlyList<(LoadReport Mock, LoadReport Baseline)> runs)
    {
        var ordered = runs.OrderBy(r => r.Mock.Streams).ToList();
        var s = new System.Text.StringBuilder();
        for (int i = 1; i < ordered.Count; i++)
        {
            var (m0, b0) = ordered[i - 1];
            var (m1, b1) = ordered[i];
            s.AppendLine(CultureInfo.InvariantCulture, $"RSS per added stream from N = {m0.Streams} to {m1.Streams} (difference of RSS with the streams open / difference of N): mock {Format(Slope(m0, m1), "0.0")} KiB, baseline {Format(Slope(b0, b1), "0.0")} KiB");
        }

        return s.ToString();
    }

    private static double Slope(LoadReport a, LoadReport b) =>
        a.Server is { } sa && b.Server is { } sb && b.Streams != a.Streams
            ? (sb.RssKbAtWindowEnd - sa.RssKbAtWindowEnd) / (double)(b.Streams - a.Streams)
            : double.NaN;

    private static double Cpu(LoadReport r) => r.Server?.CpuSecondsPerMillionTokens ?? double.NaN;

    private static double Rss(LoadReport r) => r.Server?.RssKbPerStream ?? double.NaN;

    private static string Format(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private static string Errors(LoadReport r) => r.Errors.Count == 0 ? "none" : string.Join(", ", r.Errors.Select(e => $"{e.Key} {e.Value}"));

    // NaN comparisons are false, so a missing figure reads as MISSED, never as held.
    private static string Verdict(bool held) => held ? "HELD" : "MISSED";
}
