using System.CommandLine;
using System.Globalization;

using Grpc.Core;
using Grpc.Health.V1;

using MockServe.Benchmarks.Streaming.Load;
using MockServe.Contracts.V1;
using MockServe.Reliability.Harness;

namespace MockServe.Reliability.Drain;

/// <summary>
/// <c>sigterm</c>: a server started with a drain (--drain 2s) gets SIGTERM while long streams (far longer than the
/// drain) and short ones (that end within it) are open. The short ones must complete; the long ones must be ended
/// at the drain with UNAVAILABLE "server shutting down", none of them reset or left without a status; new calls
/// meanwhile must be refused UNAVAILABLE and readiness must say NOT_SERVING; and the process must exit, with code 0,
/// within the drain + 1 s.
/// </summary>
internal static class SigtermSuite
{
    private const int StreamsPerConnection = 100;
    private const int NewCallsDuringDrain = 5;
    private const int ShortTokens = 10;

    // Before the drain ends, a long stream ended early; this much after it, it was left to the shutdown's mercy.
    private static readonly TimeSpan EarlySlack = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ExitSlack = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var drain = ReliabilityCli.Option("--drain", "The server's --drain, in seconds.", 2.0);
        var longStreams = ReliabilityCli.Sized<int>("--long", "Streams far longer than the drain (smoke 40; full 400).");
        var shortStreams = ReliabilityCli.Sized<int>("--short", "Streams that end within the drain (smoke 10; full 100).");
        return ReliabilityCli.Suite("sigterm", "SIGTERM the server under load; check every stream ends with a status and the process exits within the drain + 1 s.",
            [drain, longStreams, shortStreams],
            async (p, run, verdict, ct) =>
            {
                var drainTime = TimeSpan.FromSeconds(Math.Clamp(p.GetValue(drain), 0.5, 60));
                // llama-3.1-8b on an h200 at a tenth of real speed: about 33 ms a token, and room in HBM for every stream.
                var spec = new ServerSpec(["--model", "llama-3.1-8b", "--gpu", "h200", "--time-scale", "10", "--max-running", "2048",
                    "--drain", string.Create(CultureInfo.InvariantCulture, $"{drainTime.TotalMilliseconds:0}ms")]);
                await ReliabilityCli.WithServerAsync(run, verdict, spec,
                    server => RunAsync(run, verdict, server, drainTime, run.Pick(p.GetValue(longStreams), 40, 400), run.Pick(p.GetValue(shortStreams), 10, 100), ct), ct);
            });
    }

    private sealed class Stream(bool isLong)
    {
        public bool IsLong { get; } = isLong;

        public TaskCompletionSource FirstToken { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long EndedAt { get; set; }

        public Task<CallResult> Call { get; set; } = Task.FromResult<CallResult>(null!);
    }

    private static async Task RunAsync(RunContext run, Verdict verdict, ServerProcess server, TimeSpan drain, int longCount, int shortCount, CancellationToken ct)
    {
        var time = run.Time;
        int connections = ((longCount + shortCount) / StreamsPerConnection) + 1;
        var channels = Enumerable.Range(0, connections).Select(_ => Connections.OneConnection(server.Target)).ToArray();
        try
        {
            var clients = channels.Select(c => new InferenceService.InferenceServiceClient(c)).ToArray();
            var deadline = time.GetUtcNow().UtcDateTime.AddMinutes(5);
            var streams = new List<Stream>();

            Stream Open(bool isLong)
            {
                var stream = new Stream(isLong);
                // ShortTokens take about 0.35 s alone (~33 ms a token) and about 1 s beside 400 long streams, whose KV
                // every step reads too (30 tokens did not fit the 2 s drain there: 32 of 100 finished); 100,000 take an hour.
                var request = new GenerateRequest { PromptTokens = 100, MaxTokens = isLong ? 100_000 : ShortTokens, IgnoreEos = true };
                var client = clients[streams.Count / StreamsPerConnection];
                streams.Add(stream);
                stream.Call = Task.Run(async () =>
                {
                    var result = await GenerateCall.RunAsync(client, request, time, deadline, ct, _ => stream.FirstToken.TrySetResult());
                    stream.EndedAt = time.GetTimestamp();
                    stream.FirstToken.TrySetResult();
                    return result;
                });
                return stream;
            }

            // The long streams first, all streaming, then the short ones, streaming too: then SIGTERM.
            var longOnes = Enumerable.Range(0, longCount).Select(_ => Open(isLong: true)).ToList();
            await Task.WhenAll(longOnes.Select(s => s.FirstToken.Task)).WaitAsync(WaitLimit, time, ct);
            var shortOnes = Enumerable.Range(0, shortCount).Select(_ => Open(isLong: false)).ToList();
            await Task.WhenAll(shortOnes.Select(s => s.FirstToken.Task)).WaitAsync(WaitLimit, time, ct);
            int endedEarly = streams.Count(s => s.Call.IsCompleted);

            long terminated = time.GetTimestamp();
            server.Terminate();
            var exit = server.WaitForExitAsync(drain + WaitLimit);
            await run.Output.WriteLineAsync($"SIGTERM with {longCount} long and {shortCount} short streams open ({endedEarly} had already ended), drain {drain.TotalSeconds:0.###} s");

            // While the drain runs: new calls and readiness.
            await Task.Delay(TimeSpan.FromMilliseconds(300), time, ct);
            var fresh = new Tally();
            for (int i = 0; i < NewCallsDuringDrain; i++)
            {
                var result = await GenerateCall.RunAsync(clients[^1], new GenerateRequest { PromptTokens = 100, MaxTokens = 5 }, time, time.GetUtcNow().UtcDateTime.AddSeconds(5), ct);
                fresh.Add(result.Error is { } e && e.StatusCode == StatusCode.Unavailable && !Outcome.IsTransportFailure(e) ? "UNAVAILABLE" : result.Outcome);
            }

            string readiness;
            try
            {
                var health = await new Health.HealthClient(channels[^1]).CheckAsync(
                    new HealthCheckRequest { Service = "mockserve.v1.InferenceService" }, deadline: time.GetUtcNow().UtcDateTime.AddSeconds(2), cancellationToken: ct);
                readiness = health.Status.ToString();
            }
            catch (RpcException ex)
            {
                readiness = $"{Outcome.Of(ex, false)} ({ex.Status.Detail})";
            }

            var results = await Task.WhenAll(streams.Select(s => s.Call)).WaitAsync(drain + WaitLimit, time, ct);
            long? exitedAt = await exit;
            var tally = new Tally();
            foreach (var (stream, result) in streams.Zip(results))
            {
                tally.Add(result.Outcome, Outcome.IsBroken(result.Outcome) && result.Error is { } error
                    ? $"{(stream.IsLong ? "long" : "short")} stream: {error.Status.Detail}{(error.Status.DebugException is { } inner ? $" ({inner.GetType().Name}: {inner.Message})" : "")}"
                    : null);
            }

            var longResults = longOnes.Select(s => (Stream: s, Result: results[streams.IndexOf(s)])).ToList();
            var shortResults = shortOnes.Select(s => results[streams.IndexOf(s)]).ToList();
            var longEnds = longOnes.Select(s => time.GetElapsedTime(terminated, s.EndedAt)).Order().ToList();
            await run.Output.WriteLineAsync($"streams: {tally.Summary()}");
            await run.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"long streams ended {longEnds[0].TotalSeconds:0.000} to {longEnds[^1].TotalSeconds:0.000} s after SIGTERM; new calls meanwhile: {fresh.Summary()}; readiness: {readiness}"));

            verdict.CheckOutcomes(tally, "stream");
            int unavailable = longResults.Count(r => r.Result.Outcome == "UNAVAILABLE" && r.Result.Error!.Status.Detail.Contains("shutting down", StringComparison.OrdinalIgnoreCase));
            verdict.Check("every long stream ended UNAVAILABLE \"server shutting down\"", unavailable == longCount,
                $"{unavailable} of {longCount}; {Describe(longResults.Where(r => r.Result.Outcome != "UNAVAILABLE").Select(r => r.Result))}");
            bool atDrain = longEnds[0] >= drain - EarlySlack && longEnds[^1] <= drain + ExitSlack;
            verdict.Check($"long streams were cut at the drain ({drain.TotalSeconds:0.###} s), not before", atDrain, string.Create(CultureInfo.InvariantCulture,
                $"between {longEnds[0].TotalSeconds:0.000} and {longEnds[^1].TotalSeconds:0.000} s after SIGTERM; expected {(drain - EarlySlack).TotalSeconds:0.00} to {(drain + ExitSlack).TotalSeconds:0.00} s"));
            int shortOk = shortResults.Count(r => r.Outcome == Outcome.Ok && r.Tokens == ShortTokens);
            verdict.Check("every short stream completed during the drain", shortOk == shortCount, $"{shortOk} of {shortCount} with all {ShortTokens} tokens");
            verdict.Check("new calls during the drain are refused UNAVAILABLE", fresh["UNAVAILABLE"] == NewCallsDuringDrain, fresh.Summary());
            verdict.Check("readiness reports NOT_SERVING during the drain", readiness == "NotServing", readiness);
            if (exitedAt is { } at)
            {
                var exitAfter = time.GetElapsedTime(terminated, at);
                verdict.Check($"the process exited within the drain + {ExitSlack.TotalSeconds:0} s", exitAfter <= drain + ExitSlack,
                    string.Create(CultureInfo.InvariantCulture, $"drain time: exited {exitAfter.TotalSeconds:0.000} s after SIGTERM (drain {drain.TotalSeconds:0.###} s)"));
                verdict.Check("the process exited with code 0", server.ExitCode == 0, $"exit code {server.ExitCode}");
            }
            else
            {
                verdict.Check($"the process exited within the drain + {ExitSlack.TotalSeconds:0} s", false, $"still running {(drain + WaitLimit).TotalSeconds:0} s after SIGTERM");
            }
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    private static string Describe(IEnumerable<CallResult> results)
    {
        var list = results.ToList();
        if (list.Count == 0)
        {
            return "no other ending";
        }

        var first = list[0];
        string detail = first.Error is { } error
            ? $"{error.Status.Detail}{(error.Status.DebugException is { } inner ? $" ({inner.GetType().Name})" : "")}"
            : "no error";
        return $"{list.Count} otherwise, e.g. {first.Outcome}: {detail}";
    }
}
