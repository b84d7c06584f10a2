using Grpc.Core;

using MockServe.Contracts.V1;
using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Scenarios;
using MockServe.LoadTests.Simulations;
using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Llm;

/// <summary>
/// Multi-turn chat users of a <c>mockserve.v1</c> server. Each user owns a session: every turn sends the whole
/// conversation (the server prefills only what its KV does not hold), reads the stream to its end, thinks, and comes
/// back; when the conversation is over it closes the session. Under a closed model a copy is one user and each
/// invocation one turn; under an open model each arrival is a new user who holds a whole conversation.
/// </summary>
public static class ChatUsers
{
    /// <summary>A closed copy's user: its conversation and the think time before its next turn.</summary>
    private sealed class User(Conversation conversation)
    {
        public Conversation Conversation { get; } = conversation;

        public TimeSpan ThinkTime { get; set; }

        /// <summary>Turns failed in a row: each doubles the pause before the user tries again.</summary>
        public int Failures { get; set; }
    }

    /// <summary>
    /// The pause after the n-th failed turn in a row, at least: 1 s, doubling up to a minute (run-clock time). Without
    /// it a closed user facing a server that refuses at once (or no server at all) retried in a tight loop, tens of
    /// thousands of calls a second, pinning the driver's CPU.
    /// </summary>
    internal static TimeSpan RetryPause(int failures) =>
        failures <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, Math.Min(failures, 16) - 1)));

    /// <summary>No turn outlives this, whatever the server does.</summary>
    private static readonly TimeSpan TurnDeadline = TimeSpan.FromMinutes(30);

    public static ScenarioProps Create(string name, InferenceService.InferenceServiceClient client, WorkloadPlan workload, Metadata? headers = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(workload);
        long requests = -1;
        return Scenario.Create(name, async context =>
        {
            if (context.Model == LoadModel.Open)
            {
                // An arrival is a user with a conversation of its own, held to its end.
                var conversation = workload.NewConversation($"{name}-{context.Invocation.Number}", context.Copy.Random);
                TimeSpan? due = null;
                while (true)
                {
                    var (outcome, _) = await TurnAsync(context, conversation, due);
                    if (outcome.SessionEnded)
                    {
                        break;
                    }

                    due = context.Now() + outcome.ThinkTime;
                    if (!await ThinkAsync(due.Value, context))
                    {
                        // The plan is over: the user leaves mid-conversation and frees its session.
                        if (conversation.OpenSessionId is { } open)
                        {
                            await CloseAsync(open, context.CancellationToken);
                        }

                        break;
                    }
                }
            }
            else
            {
                // A copy is one user; its think time opens its next invocation, so no run waits out a last think.
                var user = context.Copy.Value as User ?? new User(workload.NewConversation($"{name}-u{context.Copy.Number}", context.Copy.Random));
                context.Copy.Value = user;
                bool thought = user.ThinkTime > TimeSpan.Zero;
                if (thought && !await ThinkAsync(context.Invocation.ActualStart + user.ThinkTime, context))
                {
                    // The plan ended while the user thought: no turn after the end (the copy's clean-up closes its session).
                    return Response.Recorded;
                }

                // The think began as the invocation started: the turn is due when it ends.
                var (outcome, ok) = await TurnAsync(context, user.Conversation, thought ? context.Invocation.ActualStart + user.ThinkTime : null);
                user.Failures = ok ? 0 : user.Failures + 1;
                user.ThinkTime = outcome.ThinkTime > RetryPause(user.Failures) ? outcome.ThinkTime : RetryPause(user.Failures);
            }

            return Response.Recorded;
        })
        .WithCleanCopy(async (copy, ct) =>
        {
            if (copy.Value is User { Conversation.OpenSessionId: { } open })
            {
                await CloseAsync(open, ct);
            }
        });

        // due: when a turn after a think was meant to go (a late wake-up counts as lateness); null for a turn that starts
        // the invocation, whose intended start is the load simulation's.
        async Task<(TurnOutcome Outcome, bool Ok)> TurnAsync(ScenarioContext context, Conversation conversation, TimeSpan? due)
        {
            var turn = conversation.Next();
            var sentAt = context.Now();
            var (intended, actual) = due is { } thoughtUntil ? (thoughtUntil, sentAt) : (context.Invocation.IntendedStart, context.Invocation.ActualStart);
            long index = Interlocked.Increment(ref requests);
            var call = await StreamedCall.RunAsync(
                client, turn.ToRequest($"{name}-{index}"), context.Time, headers, context.Time.GetUtcNow().UtcDateTime + TurnDeadline, context.CancellationToken);
            context.Record(call.ToSample(name, index, (int)context.Copy.Number, turn.TurnIndex, turn.SessionId, intended, actual, sentAt, turn.PromptTokens));
            var outcome = call.Ok ? conversation.Complete(call.OutputTokens) : conversation.Abandon();
            if (outcome.SessionEnded)
            {
                await CloseAsync(outcome.SessionId, context.CancellationToken);
            }

            return (outcome, call.Ok);
        }

        // Thinks until due on the run's clock; false when the plan ends first, so no turn starts after the load's end.
        static async Task<bool> ThinkAsync(TimeSpan due, ScenarioContext context)
        {
            if (context.PlanEnded.IsCancellationRequested)
            {
                return false;
            }

            using var either = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, context.PlanEnded);
            try
            {
                await context.DelayUntilAsync(due, either.Token);
                return !context.PlanEnded.IsCancellationRequested;
            }
            catch (OperationCanceledException) when (context.PlanEnded.IsCancellationRequested)
            {
                return false;
            }
        }

        async Task CloseAsync(string session, CancellationToken ct)
        {
            try
            {
                await client.CloseSessionAsync(new CloseSessionRequest { SessionId = session }, headers, cancellationToken: ct);
            }
            catch (RpcException)
            {
                // Best effort: never opened (the first turn failed), already gone, or the server unreachable; the session's
                // TTL frees what a failed close leaves, and the turn's own failure is already recorded (once).
            }
        }
    }
}
