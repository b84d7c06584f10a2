using Grpc.Core;

using MockServe.Contracts.V1;
using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Scenarios;
using MockServe.LoadTests.Simulations;
using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Llm;

/// <summary>
/// Replays a request trace against a <c>mockserve.v1</c> server: each record starts at its (scaled) time from the
/// start of the invocation, one-off records on their own, a session's records in order on one session id of the run
/// (a turn cannot be sent before the previous turn's answer has come back, so one that comes due earlier waits for
/// it: its intended start is then that answer's end, and the wait is not charged to the server). The last record of
/// a session closes it. Records due at or after <c>limit</c> are not sent, which bounds the replay.
/// </summary>
public static class TraceReplay
{
    /// <summary>No request outlives this, whatever the server does.</summary>
    private static readonly TimeSpan RequestDeadline = TimeSpan.FromMinutes(30);

    /// <summary>A scenario that replays <paramref name="workload"/>'s trace once (its load: one iteration of one copy).</summary>
    /// <exception cref="ArgumentException">The workload has no trace.</exception>
    public static ScenarioProps Create(string name, InferenceService.InferenceServiceClient client, WorkloadPlan workload, TimeSpan limit, Metadata? headers = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(workload);
        var trace = workload.Trace ?? throw new ArgumentException("The workload has no trace to replay.", nameof(workload));
        long requests = -1;
        return Scenario.Create(name, async context =>
        {
            var turns = new Dictionary<string, int>(StringComparer.Ordinal);
            await ReplayAsync(
                trace.Requests, limit, context.Now, context.Invocation.IntendedStart, context.DelayUntilAsync, SendAsync, context.CancellationToken);
            return Response.Recorded;

            async Task SendAsync(TraceRequest record, TimeSpan intended)
            {
                int turn;
                lock (turns)
                {
                    turn = turns.TryGetValue(record.SessionId, out int t) ? t + 1 : 0;
                    turns[record.SessionId] = turn;
                }

                // The trace's session ids made unique to this run's scenario and invocation, so a server keeping earlier runs' sessions sees new ones.
                string session = record.SessionId.Length == 0 ? "" : $"{name}-{context.Invocation.Number}-{record.SessionId}";
                var sentAt = context.Now();
                long index = Interlocked.Increment(ref requests);
                var request = Requests.Generate($"{name}-{index}", session, record.PromptTokens, null, record.OutputTokens, workload.IgnoreEos);
                var call = await StreamedCall.RunAsync(
                    client, request, context.Time, headers, context.Time.GetUtcNow().UtcDateTime + RequestDeadline, context.CancellationToken);
                int turnIndex = record.SessionId.Length == 0 ? 0 : turn;
                context.Record(call.ToSample(name, index, (int)context.Copy.Number, turnIndex, session.Length == 0 ? null : session, intended, sentAt, sentAt, record.PromptTokens));
                if (record.LastOfSession)
                {
                    try
                    {
                        await client.CloseSessionAsync(new CloseSessionRequest { SessionId = session }, headers, cancellationToken: context.CancellationToken);
                    }
                    catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.Cancelled)
                    {
                        // Never opened (its first request failed) or already gone: nothing to free.
                    }
                }
            }
        }).WithLoadSimulations(Simulation.IterationsForConstant(1, 1));
    }

    /// <summary>
    /// Starts <paramref name="send"/> for each record at <paramref name="origin"/> + its offset (on <paramref name="now"/>),
    /// a session's records one after another, and waits for every one; <paramref name="delayUntil"/> waits until a moment
    /// on the run's clock, never ending early (<see cref="Scenarios.ScenarioContext.DelayUntilAsync"/>). <paramref name="send"/> is given the record and
    /// its intended start: its due time, or the end of its session's previous request when that came later.
    /// </summary>
    internal static async Task ReplayAsync(
        IReadOnlyList<TraceRequest> records, TimeSpan limit, Func<TimeSpan> now, TimeSpan origin,
        Func<TimeSpan, CancellationToken, Task> delayUntil, Func<TraceRequest, TimeSpan, Task> send, CancellationToken ct)
    {
        // Each session's last request, which ends at the moment it returns.
        var sessions = new Dictionary<string, Task<TimeSpan>>(StringComparer.Ordinal);
        var running = new List<Task>();
        try
        {
            foreach (var record in records)
            {
                if (record.Offset >= limit)
                {
                    break;
                }

                var due = origin + record.Offset;
                await delayUntil(due, ct);

                var started = RunAsync(record.SessionId.Length > 0 ? sessions.GetValueOrDefault(record.SessionId) : null, record, due);
                if (record.SessionId.Length > 0)
                {
                    sessions[record.SessionId] = started;
                }

                running.Add(started);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The run ended: what was started is still awaited below, and ends with the same token.
        }

        await Task.WhenAll(running);

        async Task<TimeSpan> RunAsync(Task<TimeSpan>? previous, TraceRequest record, TimeSpan due)
        {
            var intended = due;
            if (previous is not null)
            {
                var answered = await previous;
                if (ct.IsCancellationRequested)
                {
                    return now();
                }

                intended = answered > due ? answered : due;
            }

            await send(record, intended);
            return now();
        }
    }
}
