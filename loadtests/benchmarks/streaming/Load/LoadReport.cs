using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MockServe.Benchmarks.Streaming.Load;

/// <summary>
/// Token lateness in microseconds: receive time minus the time the server said the token was due. Early counts the
/// tokens that arrived before it (recorded as 0).
/// </summary>
internal sealed record LatenessSummary(double P50, double P99, double P999, double Max, double Mean, long Count, long Early);

/// <summary>The server process over the window, from /proc.</summary>
internal sealed record ServerUsage(
    int Pid,
    double CpuSeconds,
    double CpuSecondsPerMillionTokens,
    long IdleRssKb,
    long RssKbAtWindowStart,
    long RssKbAtWindowEnd,
    double RssKbPerStream);

/// <summary>
/// The client's own CPU over the window and how busy the whole machine was (0 to 1 of all its CPUs): the client
/// shares the machine with the server, and a saturated machine delays tokens whatever the server does.
/// </summary>
internal sealed record ClientUsage(double CpuSeconds, double MachineBusy, int Cpus);

/// <summary>One client run, as JSON for run.sh and as a readable summary.</summary>
internal sealed record LoadReport
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // A run with no measured token has NaN percentiles; JSON has no NaN, so it goes out as the string "NaN".
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public required string Label { get; init; }

    public required string Target { get; init; }

    public required int Streams { get; init; }

    public required int Connections { get; init; }

    public required long PromptTokens { get; init; }

    public required long MaxTokens { get; init; }

    public required bool IgnoreEos { get; init; }

    public required double TimeScale { get; init; }

    public required double WarmupSeconds { get; init; }

    public required double WindowSeconds { get; init; }

    public required LatenessSummary LatenessUs { get; init; }

    public required long Messages { get; init; }

    public required long Tokens { get; init; }

    public required double MessagesPerSecond { get; init; }

    public required double TokensPerSecond { get; init; }

    public required long RequestsCompleted { get; init; }

    /// <summary>Mean server-side gap between consecutive tokens of a request (model ms): the baseline's step.</summary>
    public required double MeanTokenGapMs { get; init; }

    /// <summary>Mean first-token offset (model ms): the baseline's time to first token.</summary>
    public required double MeanTtftMs { get; init; }

    /// <summary>Failed calls by status code over the whole run, the cancellations at the end left out.</summary>
    public required IReadOnlyDictionary<string, long> Errors { get; init; }

    public required int OpenStreamsAtWindowStart { get; init; }

    public required int OpenStreamsAtWindowEnd { get; init; }

    /// <summary>Users still running when the grace period after the window ran out.</summary>
    public required int UnfinishedAfterGrace { get; init; }

    public ServerUsage? Server { get; init; }

    public ClientUsage? Client { get; init; }

    public string Summary()
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.AppendLine(c, $"{Label}: {Streams} streams over {Connections} connection(s) to {Target}, prompt {PromptTokens}, max_tokens {MaxTokens}{(IgnoreEos ? ", ignore_eos" : "")}");
        s.AppendLine(c, $"  window        {WindowSeconds:0.#} s after {WarmupSeconds:0.#} s of warm-up; open streams {OpenStreamsAtWindowStart} at start, {OpenStreamsAtWindowEnd} at end");
        s.AppendLine(c, $"  lateness      p50 {LatenessUs.P50 / 1000:0.000} ms, p99 {LatenessUs.P99 / 1000:0.000} ms, p99.9 {LatenessUs.P999 / 1000:0.000} ms, max {LatenessUs.Max / 1000:0.000} ms, mean {LatenessUs.Mean / 1000:0.000} ms ({LatenessUs.Count:N0} tokens, {LatenessUs.Early} early)");
        s.AppendLine(c, $"  throughput    {MessagesPerSecond:N0} messages/s, {TokensPerSecond:N0} tokens/s, {RequestsCompleted:N0} requests completed");
        s.AppendLine(c, $"  server times  mean inter-token gap {MeanTokenGapMs:0.000} ms, mean TTFT {MeanTtftMs:0.000} ms (model time)");
        if (Server is { } u)
        {
            s.AppendLine(c, $"  server CPU    {u.CpuSeconds:0.00} s in the window = {u.CpuSecondsPerMillionTokens:0.00} s per million tokens");
            s.AppendLine(c, $"  server RSS    idle {u.IdleRssKb / 1024.0:0.0} MiB, {u.RssKbAtWindowEnd / 1024.0:0.0} MiB with the streams open = {u.RssKbPerStream:0.0} KiB per stream");
        }

        if (Client is { } client)
        {
            s.AppendLine(c, $"  machine       client CPU {client.CpuSeconds:0.00} s in the window; all {client.Cpus} CPUs {client.MachineBusy:P0} busy");
        }

        s.Append("  errors        ").AppendLine(Errors.Count == 0 ? "none" : string.Join(", ", Errors.Select(e => $"{e.Key} {e.Value}")));
        if (UnfinishedAfterGrace > 0)
        {
            s.AppendLine(c, $"  warning       {UnfinishedAfterGrace} user(s) still running after the grace period");
        }

        return s.ToString();
    }
}
