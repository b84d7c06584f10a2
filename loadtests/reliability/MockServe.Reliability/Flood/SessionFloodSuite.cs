using System.CommandLine;
using System.Globalization;

using Grpc.Net.Client;

using MockServe.Benchmarks.Streaming.Load;
using MockServe.Contracts.V1;
using MockServe.Reliability.Harness;

namespace MockServe.Reliability.Flood;

/// <summary>
/// <c>flood</c>: one tiny turn for each of many distinct session ids, none ever closed, with sessions that outlive
/// the run (--session-ttl 1d). The server's RSS (/proc) and session count (GetServerInfo) are sampled every 10,000
/// sessions. The session count must stay at or under Engine:MaxSessions (passed as MockServe__Engine__MaxSessions:
/// a server without that setting ignores it, and fails the check), and RSS must stop growing past the cap.
/// </summary>
internal static class SessionFloodSuite
{
    private const int Step = 10_000;

    // RSS and the session count are sampled this often; the growth past the cap is a least-squares slope over them,
    // so one garbage collection landing between two samples does not decide the check.
    private const int SampleEvery = Step / 4;
    private const int StreamsPerConnection = 32;

    public static Command Create()
    {
        var sessions = ReliabilityCli.Sized<int>("--sessions", "Distinct session ids, one turn each (smoke 50,000; full 600,000).");
        var maxSessions = ReliabilityCli.Sized<int>("--max-sessions", "Engine:MaxSessions given to the server, the cap checked (smoke 5,000; full 100,000).");
        var concurrency = ReliabilityCli.Option("--concurrency", "Turns in flight at once.", 64);
        // Measured here with the count held at the cap by reusing ids: 0.6 to 1.9 MiB per 10,000 over 25,000-50,000
        // turns (cap 5,000; the heap still settling) and 13 KiB over 300,000-600,000 (cap 100,000). Uncapped (main
        // before the hardening): about 5 MiB and 2.3 MiB.
        var bound = ReliabilityCli.Sized<int>("--max-growth-kib", "Bound on RSS growth per 10,000 sessions over the second half of the flood, past the cap (full 1,024; 0: reported, not judged, the smoke default: in a few seconds the runtime's own heap is still settling, 3.6 MiB per 10,000 seen with the cap held).");
        var maxSeconds = ReliabilityCli.Sized<double>("--max-seconds", "No new turn after this long (smoke 60; full 1200).");
        return ReliabilityCli.Suite("flood", "Open many distinct sessions with tiny prompts; measure RSS per 10,000 sessions and check the session cap.",
            [sessions, maxSessions, concurrency, bound, maxSeconds],
            async (p, run, verdict, ct) =>
            {
                var settings = new Settings(
                    run.Pick(p.GetValue(sessions), 50_000, 600_000),
                    run.Pick(p.GetValue(maxSessions), 5_000, 100_000),
                    Math.Clamp(p.GetValue(concurrency), 1, 1024),
                    run.Pick(p.GetValue(bound), 0, 1_024),
                    TimeSpan.FromSeconds(run.Pick(p.GetValue(maxSeconds), 60.0, 1200.0)));
                var spec = new ServerSpec(
                    ["--time-scale", "0.01", "--drain", "1s", "--session-ttl", "1d"],
                    new Dictionary<string, string> { ["MockServe__Engine__MaxSessions"] = settings.MaxSessions.ToString(CultureInfo.InvariantCulture) });
                await ReliabilityCli.WithServerAsync(run, verdict, spec, server => RunAsync(run, verdict, server, settings, ct), ct);
            });
    }

    private sealed record Settings(int Sessions, int MaxSessions, int Concurrency, int MaxGrowthKib, TimeSpan MaxDuration);

    private sealed record Sample(int Done, long RssKb, int SessionsTotal);

    private static async Task RunAsync(RunContext run, Verdict verdict, ServerProcess server, Settings settings, CancellationToken ct)
    {
        var time = run.Time;
        var ledger = new Ledger(server, time);
        int connections = (settings.Concurrency + StreamsPerConnection - 1) / StreamsPerConnection;
        var channels = Enumerable.Range(0, connections).Select(_ => Connections.OneConnection(server.Target)).ToArray();
        var clients = channels.Select(c => new InferenceService.InferenceServiceClient(c)).ToArray();
        var tally = new Tally();
        var samples = new List<Sample> { new(0, server.RssKb(), (await ledger.PoolAsync(ct)).SessionsTotal) };
        await run.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{settings.Sessions:N0} sessions, {settings.Concurrency} turns at a time, Engine:MaxSessions {settings.MaxSessions:N0}; before: RSS {samples[0].RssKb / 1024.0:0.0} MiB"));
        int next = 0;
        int done = 0;
        long begun = time.GetTimestamp();
        var gate = new SemaphoreSlim(1, 1);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(w => WorkerAsync(w)));
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }

        double took = time.GetElapsedTime(begun).TotalSeconds;
        if (!server.HasExited && samples[^1].Done != done)
        {
            samples.Add(new Sample(done, server.RssKb(), (await ledger.PoolAsync(ct)).SessionsTotal));
        }

        await run.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{done:N0} turns in {took:0.0} s: {tally.Summary()}"));
        verdict.CheckOutcomes(tally, "turn");
        verdict.CheckAlive(server);
        verdict.Check("every session was opened", done == settings.Sessions, $"{done:N0} of {settings.Sessions:N0} (--max-seconds {settings.MaxDuration.TotalSeconds:0})");

        var last = samples[^1];
        double perTenK = last.Done == 0 ? 0 : (last.RssKb - samples[0].RssKb) * (double)Step / last.Done;
        await run.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"RSS per 10,000 sessions over the whole flood: {perTenK / 1024.0:0.00} MiB ({samples[0].RssKb / 1024.0:0.0} -> {last.RssKb / 1024.0:0.0} MiB for {last.Done:N0} sessions)"));
        int peakSessions = samples.Max(s => s.SessionsTotal);
        verdict.Check("the session count stays at or under Engine:MaxSessions", peakSessions <= settings.MaxSessions,
            string.Create(CultureInfo.InvariantCulture, $"peak {peakSessions:N0} sessions (GetServerInfo sessions_total) against a cap of {settings.MaxSessions:N0}"));

        // The second half of the flood, and only past the cap: there a capped server evicts one session per new one.
        var tailStart = samples.FirstOrDefault(s => s.Done >= Math.Max(settings.MaxSessions, last.Done / 2));
        if (tailStart is null || last.Done - tailStart.Done < Step)
        {
            verdict.Check("RSS stops growing past the session cap", false, $"too few sessions past the cap to measure ({last.Done:N0} done, cap {settings.MaxSessions:N0})");
            return;
        }

        double tailPerTenK = Slope(samples.Where(s => s.Done >= tailStart.Done).ToList()) * Step;
        string growth = string.Create(CultureInfo.InvariantCulture,
            $"{tailPerTenK:N0} KiB per 10,000 sessions (least squares) from {tailStart.Done:N0} to {last.Done:N0} sessions ({tailStart.RssKb / 1024.0:0.0} -> {last.RssKb / 1024.0:0.0} MiB)");
        if (settings.MaxGrowthKib == 0)
        {
            await run.Output.WriteLineAsync($"RSS past the session cap (not judged, --max-growth-kib 0): {growth}");
        }
        else
        {
            verdict.Check($"RSS stops growing past the session cap (at most {settings.MaxGrowthKib:N0} KiB per 10,000 sessions)", tailPerTenK <= settings.MaxGrowthKib, growth);
        }

        // Sessions outlive the run (TTL 1 day), so every session opened and no longer held was evicted for the cap.
        double evicted = await ledger.MetricAsync("mockserve_sessions_evicted_total{reason=\"limit\"}", ct) ?? -1;
        long held = (await ledger.PoolAsync(ct)).SessionsTotal;
        long opened = tally[Outcome.Ok];
        verdict.Check("every session dropped at the cap is counted in mockserve_sessions_evicted_total", evicted == opened - held,
            string.Create(CultureInfo.InvariantCulture, $"{evicted:N0} evicted; {opened:N0} sessions opened - {held:N0} held = {opened - held:N0}"));
        foreach (string line in await ledger.MetricLinesAsync("session", ct))
        {
            await run.Output.WriteLineAsync($"  /metrics: {line}");
        }

        async Task WorkerAsync(int worker)
        {
            var client = clients[worker / StreamsPerConnection];
            var random = run.NewRandom(worker);
            while (time.GetElapsedTime(begun) < settings.MaxDuration && !server.HasExited)
            {
                int i = Interlocked.Increment(ref next) - 1;
                if (i >= settings.Sessions)
                {
                    return;
                }

                var request = new GenerateRequest { SessionId = $"flood-{i}", PromptTokens = random.Next(1, 17), MaxTokens = 1, IgnoreEos = true };
                var result = await GenerateCall.RunAsync(client, request, time, time.GetUtcNow().UtcDateTime.AddSeconds(60), ct);
                if (result.Error is { } error)
                {
                    tally.Add(error, cancelledByClient: false);
                }
                else
                {
                    tally.Add(result.Outcome);
                }

                int finished = Interlocked.Increment(ref done);
                if (finished % SampleEvery == 0)
                {
                    await gate.WaitAsync(ct);
                    try
                    {
                        var sample = new Sample(finished, server.RssKb(), (await ledger.PoolAsync(ct)).SessionsTotal);
                        samples.Add(sample);
                        if (finished % Math.Max(Step, settings.Sessions / 20 / Step * Step) == 0 || finished == settings.Sessions)
                        {
                            await run.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                                $"  {finished,9:N0} sessions: RSS {sample.RssKb / 1024.0,8:0.0} MiB, sessions_total {sample.SessionsTotal:N0}"));
                        }
                    }
                    finally
                    {
                        gate.Release();
                    }
                }
            }
        }
    }

    /// <summary>KiB of RSS per session: the least-squares slope of RSS over sessions done.</summary>
    private static double Slope(List<Sample> samples)
    {
        double meanX = samples.Average(s => (double)s.Done);
        double meanY = samples.Average(s => (double)s.RssKb);
        double covariance = samples.Sum(s => (s.Done - meanX) * (s.RssKb - meanY));
        double variance = samples.Sum(s => (s.Done - meanX) * (s.Done - meanX));
        return variance == 0 ? 0 : covariance / variance;
    }
}
