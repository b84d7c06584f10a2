using System.CommandLine;
using System.Globalization;

using Grpc.Core;
using Grpc.Net.Client;

using MockServe.Contracts.V1;
using MockServe.Reliability.Harness;

namespace MockServe.Reliability.Storm;

/// <summary>
/// <c>storm</c>: users with long-context sessions (50K tokens on the default yi-34b / a100-80gb, where one context
/// nearly fills the HBM, so the rest queue, swap and get preempted) whose turns end every way a turn can: completed,
/// cancelled by the client, past a deadline, aborted by Abort, cut by CloseSession, cancelled at the first token, or
/// dropped with the connection. Once everything ended, no request may be left and no KV held by one; once the
/// sessions are closed, the KV ledger (GetServerInfo and the /metrics gauges) must be back to zero.
/// </summary>
internal static class CancelStormSuite
{
    public static Command Create()
    {
        var users = ReliabilityCli.Sized<int>("--users", "Users, each with its own session (smoke 8; full 48).");
        var turns = ReliabilityCli.Sized<int>("--turns", "Turns per user (smoke 3; full 6).");
        var context = ReliabilityCli.Option("--context", "First prompt of each session, in tokens; each turn adds 1,000.", 50_000L);
        var maxTokens = ReliabilityCli.Sized<long>("--max-tokens", "max_tokens of each turn, ignore_eos (smoke 300; full 1,000).");
        var maxDelayMs = ReliabilityCli.Option("--max-delay-ms", "Longest wait before a cancel, abort or deadline.", 800);
        return ReliabilityCli.Suite("storm", "Cancel long-context turns every way at once; check the KV ledger returns to zero.",
            [users, turns, context, maxTokens, maxDelayMs],
            async (p, run, verdict, ct) =>
            {
                var settings = new Settings(
                    run.Pick(p.GetValue(users), 8, 48),
                    run.Pick(p.GetValue(turns), 3, 6),
                    p.GetValue(context),
                    run.Pick(p.GetValue(maxTokens), 300L, 1_000L),
                    Math.Max(1, p.GetValue(maxDelayMs)));
                // 100 times faster than life: a 50K prefill takes 0.18 s, a token 0.4 ms. Sessions outlive the run.
                var spec = new ServerSpec(["--time-scale", "0.01", "--drain", "1s", "--session-ttl", "1d"]);
                await ReliabilityCli.WithServerAsync(run, verdict, spec, server => RunAsync(run, verdict, server, settings, ct), ct);
            });
    }

    private sealed record Settings(int Users, int Turns, long Context, long MaxTokens, int MaxDelayMs);

    private static async Task RunAsync(RunContext run, Verdict verdict, ServerProcess server, Settings settings, CancellationToken ct)
    {
        var time = run.Time;
        var turns = new KindTally();
        using var shared = GrpcChannel.ForAddress(server.Target);
        var ender = new TurnEnder(server, new InferenceService.InferenceServiceClient(shared), time, ct);
        var sessions = Enumerable.Range(0, settings.Users).Select(u => $"storm-{run.Seed}-{u}").ToList();
        long begun = time.GetTimestamp();
        await Task.WhenAll(sessions.Select((session, u) => UserAsync(u, session)));
        await run.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{settings.Users} users x {settings.Turns} turns of {settings.Context:N0}+ tokens (max_tokens {settings.MaxTokens:N0}) in {time.GetElapsedTime(begun).TotalSeconds:0.0} s; by how each turn was ended:"));
        await ender.CheckAsync(run, verdict, turns);
        verdict.CheckAlive(server);
        if (server.HasExited)
        {
            return;
        }

        var ledger = new Ledger(server, time);
        await ledger.CheckIdleAsync(verdict, ct);
        var (closed, notFound) = await ledger.CloseSessionsAsync(sessions, ct);
        await run.Output.WriteLineAsync($"closed {closed} sessions ({notFound} already gone)");
        await ledger.CheckZeroAsync(verdict, ct);

        async Task UserAsync(int u, string session)
        {
            var random = run.NewRandom(u);
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(0, 500)), time, ct);
            for (int turn = 0; turn < settings.Turns; turn++)
            {
                string mode = TurnEnder.Modes[random.Next(TurnEnder.Modes.Length)];
                var request = new GenerateRequest
                {
                    RequestId = $"{session}-t{turn}-{random.NextInt64():x16}",
                    SessionId = session,
                    PromptTokens = settings.Context + (1_000L * turn),
                    MaxTokens = settings.MaxTokens,
                    IgnoreEos = true,
                };
                var delay = TimeSpan.FromMilliseconds(random.Next(0, settings.MaxDelayMs));
                var (outcome, detail) = await ender.RunAsync(mode, request, delay);
                turns.Add(mode, outcome, detail);
            }
        }
    }
}
