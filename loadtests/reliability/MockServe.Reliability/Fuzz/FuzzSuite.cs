using System.CommandLine;
using System.Globalization;

using Google.Protobuf;

using Grpc.Core;
using Grpc.Net.Client;

using MockServe.Contracts.V1;
using MockServe.Reliability.Harness;

namespace MockServe.Reliability.Fuzz;

/// <summary>
/// <c>fuzz</c>: seeded Generate calls with malformed bodies (<see cref="BodyFuzzer"/>) and well-formed bodies with
/// extreme values (<see cref="FieldFuzzer"/>), then a fixed ladder of oversized prompts and bodies. Every call must
/// get its first message or a status within a bound, and no status may be UNKNOWN or INTERNAL; then the server
/// must be alive, serve a normal call, hold no request in its engine, and have kept its RSS under a bound. The ids
/// it gives requests must not be guessable (<see cref="RequestIds"/>).
/// </summary>
internal static class FuzzSuite
{
    /// <summary>Generate with the bytes sent and received as they are: the body is whatever the fuzzer made.</summary>
    private static readonly Method<byte[], byte[]> RawGenerate = new(
        MethodType.ServerStreaming,
        "mockserve.v1.InferenceService",
        "Generate",
        Marshallers.Create(b => b, b => b),
        Marshallers.Create(b => b, b => b));

    private const string Accepted = "ACCEPTED";
    private const int MiB = 1024 * 1024;

    public static Command Create()
    {
        var calls = ReliabilityCli.Sized<int>("--calls", "Fuzzed calls before the ladder, half raw bodies, half extreme field values (smoke 1,000; full 11,000).");
        var concurrency = ReliabilityCli.Option("--concurrency", "Calls in flight at once.", 8);
        var answer = ReliabilityCli.Option("--answer-seconds", "Longest a call may take to get its first message or its status.", 10.0);
        var maxSeconds = ReliabilityCli.Sized<double>("--max-seconds", "No new call after this long (smoke 90; full 1200).");
        var maxRss = ReliabilityCli.Option("--max-rss-mib", "Bound on the server's peak RSS over the run.", 1536);
        return ReliabilityCli.Suite("fuzz", "Fuzz Generate bodies and field values; check every call gets a clean status and the server lives on.",
            [calls, concurrency, answer, maxSeconds, maxRss],
            async (p, run, verdict, ct) =>
            {
                var settings = new Settings(
                    run.Pick(p.GetValue(calls), 1_000, 11_000),
                    Math.Clamp(p.GetValue(concurrency), 1, 256),
                    TimeSpan.FromSeconds(p.GetValue(answer)),
                    TimeSpan.FromSeconds(run.Pick(p.GetValue(maxSeconds), 90.0, 1200.0)),
                    p.GetValue(maxRss));
                // Fast model time: an accepted call's first token comes after a prefill of at most ~60K tokens (0.2 s here).
                var spec = new ServerSpec(["--time-scale", "0.01", "--drain", "1s"]);
                await ReliabilityCli.WithServerAsync(run, verdict, spec, server => RunAsync(run, verdict, server, settings, ct), ct);
            });
    }

    private sealed record Settings(int Calls, int Concurrency, TimeSpan Answer, TimeSpan MaxDuration, int MaxRssMib);

    private static async Task RunAsync(RunContext run, Verdict verdict, ServerProcess server, Settings settings, CancellationToken ct)
    {
        var time = run.Time;
        using var channel = GrpcChannel.ForAddress(server.Target, new GrpcChannelOptions { MaxSendMessageSize = null });
        var invoker = channel.CreateCallInvoker();
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var peak = PeakRssAsync(server, time, sampling.Token);
        var calls = new KindTally();

        // First, while a counter would still be small: the ids the server gives requests must not be guessable.
        await RequestIds.CheckAsync(run, verdict, server, ct);

        await run.Output.WriteLineAsync($"-- {settings.Calls:N0} fuzzed calls, {settings.Concurrency} at a time");
        long begun = time.GetTimestamp();
        int skipped = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, settings.Calls), new ParallelOptions { MaxDegreeOfParallelism = settings.Concurrency, CancellationToken = ct }, async (i, token) =>
        {
            if (time.GetElapsedTime(begun) > settings.MaxDuration)
            {
                Interlocked.Increment(ref skipped);
                return;
            }

            // One seeded source per call: the same seed sends the same calls whatever the interleaving.
            var random = run.NewRandom(i);
            string kind;
            (string Outcome, string? Detail) result;
            if (random.Next(2) == 0)
            {
                (kind, byte[] body) = BodyFuzzer.Next(random);
                result = await SendAsync(invoker, body, null, settings.Answer, token);
            }
            else
            {
                var (request, fail) = FieldFuzzer.Next(random);
                kind = "fields";
                result = await SendAsync(invoker, request.ToByteArray(), fail, settings.Answer, token);
            }

            string? detail = Outcome.IsBroken(result.Outcome) ? $"call {i} ({kind}): {result.Detail}" : null;
            calls.Add(kind, result.Outcome, detail);
        });

        await run.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"sent {settings.Calls - skipped:N0} fuzzed calls in {time.GetElapsedTime(begun).TotalSeconds:0.0} s{(skipped > 0 ? $" ({skipped:N0} not sent: --max-seconds reached)" : "")}"));
        await calls.PrintAsync(run.Output);

        // The ladder, after the random calls so that a server still busy with a huge prompt slows none of them: one
        // call of each size, in order, so the report says which size went wrong.
        await run.Output.WriteLineAsync("-- ladder: oversized prompts and bodies, one at a time");
        var late = new List<string>();
        foreach (var (name, body) in Ladder(run.Smoke))
        {
            long start = time.GetTimestamp();
            var (outcome, detail) = await SendAsync(invoker, body, null, settings.Answer, ct);
            double seconds = time.GetElapsedTime(start).TotalSeconds;
            calls.Add("ladder", outcome, Outcome.IsBroken(outcome) ? $"{name}: {detail}" : null);
            await run.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {outcome} after {seconds:0.00} s{(detail is null ? "" : $" ({Trim(detail)})")}"));
            if (name.StartsWith("text", StringComparison.Ordinal) && outcome == Outcome.NoAnswer)
            {
                late.Add(name);
            }

            if (name.StartsWith("body over the limit", StringComparison.Ordinal))
            {
                verdict.Check("a body over Server:MaxReceiveMessageBytes is refused RESOURCE_EXHAUSTED", outcome == "RESOURCE_EXHAUSTED", $"{name}: {outcome}");
            }
        }

        verdict.Check($"every text prompt, whatever its size, is answered within {settings.Answer.TotalSeconds:0.#} s", late.Count == 0,
            late.Count == 0 ? "all answered" : $"no answer for: {string.Join("; ", late)}");

        await run.Output.WriteLineAsync($"statuses, all calls: {calls.Total.Summary()}");
        verdict.CheckOutcomes(calls.Total, "call");
        verdict.CheckAlive(server);
        await Canary.CheckAsync(server, verdict, time, ct);
        if (!server.HasExited)
        {
            await new Ledger(server, time).CheckIdleAsync(verdict, ct);
        }

        await sampling.CancelAsync();
        long peakKb = await peak;
        verdict.Check($"server RSS stayed under {settings.MaxRssMib} MiB", peakKb <= settings.MaxRssMib * 1024L,
            string.Create(CultureInfo.InvariantCulture, $"peak {peakKb / 1024.0:0} MiB (sampled every 200 ms)"));
    }

    /// <summary>
    /// Sends one body and waits for the first response message or the status, at most <paramref name="answer"/>;
    /// an accepted stream is then cancelled (its tokens are not the point).
    /// </summary>
    private static async Task<(string Outcome, string? Detail)> SendAsync(CallInvoker invoker, byte[] body, string? failHeader, TimeSpan answer, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(answer);
        var headers = failHeader is null ? null : new Metadata { { "x-mockserve-fail", failHeader } };
        try
        {
            using var call = invoker.AsyncServerStreamingCall(RawGenerate, null, new CallOptions(headers, cancellationToken: limit.Token), body);
            return await call.ResponseStream.MoveNext(limit.Token)
                ? (Accepted, null)
                : (Outcome.OkWithoutCompletion, "the stream ended OK without any message");
        }
        catch (RpcException ex) when (limit.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return (Outcome.NoAnswer, $"nothing within {answer.TotalSeconds:0.#} s ({ex.StatusCode})");
        }
        catch (RpcException ex)
        {
            string outcome = Outcome.Of(ex, cancelledByClient: false);
            string debug = ex.Status.DebugException is { } inner ? $" ({inner.GetType().Name}: {inner.Message})" : "";
            return (outcome, ex.Status.Detail + debug);
        }
    }

    /// <summary>Oversized prompts and bodies, smallest first: text the tokenizer must bound, then bodies past Kestrel's and the server's limits.</summary>
    private static IEnumerable<(string Name, byte[] Body)> Ladder(bool smoke)
    {
        var random = new Random(7);
        foreach (int mib in new[] { 1, 4 })
        {
            yield return ($"text prompt of {mib} MiB", new GenerateRequest { Text = FieldFuzzer.Text(random, mib * MiB), MaxTokens = 1 }.ToByteArray());
        }

        // BPE merges within a run of characters with no break cost its length squared: the full run tries 1 MiB of it.
        foreach (int kib in smoke ? [64, 256] : new[] { 64, 256, 1024 })
        {
            yield return ($"text prompt of {kib} KiB with no space", new GenerateRequest { Text = new string('x', kib * 1024), MaxTokens = 1 }.ToByteArray());
        }

        yield return ("text prompt of 28 MB of ASCII words", new GenerateRequest { Text = AsciiWords(random, 28_000_000), MaxTokens = 1 }.ToByteArray());
        // Above Kestrel's default request body limit (30,000,000 bytes), below the 64 MiB message limit.
        yield return ("text prompt of 40 MB (over Kestrel's 30,000,000-byte default)", new GenerateRequest { Text = new string('a', 40_000_000), MaxTokens = 1 }.ToByteArray());
        // Over the default Server:MaxReceiveMessageBytes of 64 MiB: refused before it is parsed.
        yield return ("body over the limit: text of 65 MiB", new GenerateRequest { Text = new string('a', 65 * MiB), MaxTokens = 1 }.ToByteArray());
    }

    private static string AsciiWords(Random random, int length)
    {
        var text = new System.Text.StringBuilder(length);
        while (text.Length < length - 12)
        {
            for (int i = random.Next(1, 10); i > 0; i--)
            {
                text.Append((char)('a' + random.Next(26)));
            }

            text.Append(' ');
        }

        return text.ToString();
    }

    private static async Task<long> PeakRssAsync(ServerProcess server, TimeProvider time, CancellationToken stop)
    {
        long peak = 0;
        while (!stop.IsCancellationRequested && !server.HasExited)
        {
            try
            {
                peak = Math.Max(peak, server.RssKb());
                await Task.Delay(TimeSpan.FromMilliseconds(200), time, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (IOException)
            {
                break; // the process went away between the check and the read
            }
        }

        return peak;
    }

    private static string Trim(string text) => text.Length > 200 ? text[..200] + "..." : text;
}
