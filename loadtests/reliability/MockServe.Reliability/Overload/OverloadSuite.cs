using System.CommandLine;
using System.Globalization;

using Google.Rpc;

using Grpc.Core;
using Grpc.Net.Client;

using MockServe.Benchmarks.Streaming.Load;
using MockServe.Contracts.V1;
using MockServe.Reliability.Harness;

namespace MockServe.Reliability.Overload;

/// <summary>
/// <c>overload</c>: many more streams at once than Engine:MaxRunning + Engine:MaxWaiting. The surplus must be refused
/// RESOURCE_EXHAUSTED with both retry hints (the grpc-retry-pushback-ms trailer and google.rpc.RetryInfo in
/// grpc-status-details-bin, saying the same delay); every admitted stream must complete; nothing may be left behind.
/// </summary>
internal static class OverloadSuite
{
    private const int StreamsPerConnection = 100;

    public static Command Create()
    {
        var streams = ReliabilityCli.Sized<int>("--streams", "Streams opened at once (smoke 300; full 2,000).");
        var maxRunning = ReliabilityCli.Option("--max-running", "The server's Engine:MaxRunning.", 16);
        var maxWaiting = ReliabilityCli.Option("--max-waiting", "The server's Engine:MaxWaiting.", 64);
        var maxTokens = ReliabilityCli.Sized<long>("--max-tokens", "max_tokens of each stream, prompt 100, ignore_eos: about 35 ms a token in real time (smoke 20; full 50).");
        return ReliabilityCli.Suite("overload", "Open far more streams than the server admits; count refusals and check each carries a retry hint.",
            [streams, maxRunning, maxWaiting, maxTokens],
            async (p, run, verdict, ct) =>
            {
                int count = run.Pick(p.GetValue(streams), 300, 2_000);
                int running = p.GetValue(maxRunning);
                int waiting = p.GetValue(maxWaiting);
                var spec = new ServerSpec(["--time-scale", "1", "--drain", "1s",
                    "--max-running", running.ToString(CultureInfo.InvariantCulture), "--max-waiting", waiting.ToString(CultureInfo.InvariantCulture)]);
                await ReliabilityCli.WithServerAsync(run, verdict, spec,
                    server => RunAsync(run, verdict, server, count, running + waiting, run.Pick(p.GetValue(maxTokens), 20L, 50L), ct), ct);
            });
    }

    private static async Task RunAsync(RunContext run, Verdict verdict, ServerProcess server, int count, int admitted, long maxTokens, CancellationToken ct)
    {
        var time = run.Time;
        int connections = (count + StreamsPerConnection - 1) / StreamsPerConnection;
        var channels = Enumerable.Range(0, connections).Select(_ => Connections.OneConnection(server.Target)).ToArray();
        try
        {
            var clients = channels.Select(c => new InferenceService.InferenceServiceClient(c)).ToArray();
            var request = new GenerateRequest { PromptTokens = 100, MaxTokens = maxTokens, IgnoreEos = true };
            var deadline = time.GetUtcNow().UtcDateTime.AddMinutes(5);
            long begun = time.GetTimestamp();
            var results = await Task.WhenAll(Enumerable.Range(0, count).Select(i =>
                GenerateCall.RunAsync(clients[i / StreamsPerConnection], request, time, deadline, ct)));
            double took = time.GetElapsedTime(begun).TotalSeconds;

            var tally = new Tally();
            foreach (var result in results)
            {
                if (result.Error is { } error)
                {
                    tally.Add(error, cancelledByClient: false);
                }
                else
                {
                    tally.Add(result.Outcome);
                }
            }

            var refusals = results.Where(r => r.Outcome == "RESOURCE_EXHAUSTED").ToList();
            var hints = refusals.Select(r => RetryHints.Of(r.Error!)).ToList();
            int withBoth = hints.Count(h => h.PushbackMs is not null && h.RetryDelayMs is not null);
            int agree = hints.Count(h => h.PushbackMs is { } push && h.RetryDelayMs is { } delay && Math.Abs(push - delay) <= 1);
            var refusalMs = refusals.Select(r => r.Elapsed.TotalMilliseconds).Order().ToList();
            await run.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{count:N0} streams over {connections} connections against {admitted} admitted at once, in {took:0.0} s: {tally.Summary()}"));
            if (refusals.Count > 0)
            {
                var pushbacks = hints.Where(h => h.PushbackMs is not null).Select(h => h.PushbackMs!.Value).Distinct().Order().ToList();
                await run.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"refusals: {refusals.Count:N0}, {withBoth:N0} with both retry hints; pushback {string.Join("/", pushbacks.Take(5))} ms; refused after {Percentile(refusalMs, 0.5):0} ms (p50), {Percentile(refusalMs, 0.99):0} ms (p99)"));
            }

            verdict.CheckOutcomes(tally, "stream");
            verdict.Check("the server was overloaded: some streams were refused RESOURCE_EXHAUSTED", refusals.Count > 0,
                $"{refusals.Count:N0} refused of {count:N0} (at most {admitted} can be admitted at once)");
            verdict.Check("every refusal carries grpc-retry-pushback-ms and google.rpc.RetryInfo", refusals.Count > 0 && withBoth == refusals.Count,
                string.Create(CultureInfo.InvariantCulture, $"{withBoth:N0} of {refusals.Count:N0}; pushback trailer missing on {hints.Count(h => h.PushbackMs is null):N0}, RetryInfo missing on {hints.Count(h => h.RetryDelayMs is null):N0}"));
            verdict.Check("the two retry hints give the same delay", withBoth > 0 && agree == withBoth, $"{agree:N0} of {withBoth:N0} agree within 1 ms");
            int ok = results.Count(r => r.Outcome == Outcome.Ok);
            var stray = results.Where(r => r.Outcome is not Outcome.Ok and not "RESOURCE_EXHAUSTED").ToList();
            bool allTokens = results.Where(r => r.Outcome == Outcome.Ok).All(r => r.Tokens == maxTokens);
            verdict.Check("every admitted stream completed with all its tokens", stray.Count == 0 && allTokens,
                $"{ok:N0} completed{(allTokens ? $" with {maxTokens} tokens each" : ", some short of max_tokens")}; {stray.Count:N0} ended otherwise");
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }

        verdict.CheckAlive(server);
        if (!server.HasExited)
        {
            var ledger = new Ledger(server, time);
            await ledger.CheckIdleAsync(verdict, ct);
            await ledger.CheckZeroAsync(verdict, ct);
        }
    }

    private static double Percentile(List<double> sorted, double q) => sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(q * sorted.Count))];
}

/// <summary>The retry hints of a refusal, as a client reads them: the pushback trailer and the RetryInfo detail.</summary>
internal readonly record struct RetryHints(long? PushbackMs, long? RetryDelayMs)
{
    public static RetryHints Of(RpcException ex)
    {
        long? pushback = ex.Trailers.GetValue("grpc-retry-pushback-ms") is { } text
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long ms) && ms >= 0 ? ms : null;
        long? delay = null;
        // GetRpcStatus reads grpc-status-details-bin; it is null when the trailer is absent or does not match the status.
        if (ex.GetRpcStatus() is { } status && status.GetDetail<RetryInfo>() is { RetryDelay: { } retryDelay })
        {
            delay = (long)Math.Round(retryDelay.ToTimeSpan().TotalMilliseconds);
        }

        return new RetryHints(pushback, delay);
    }
}
