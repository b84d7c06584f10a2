using Grpc.Core;
using Grpc.Net.Client;

using MockServe.Contracts.V1;

namespace MockServe.Reliability.Harness;

/// <summary>
/// Runs a Generate turn and ends it one of the ways a client can: reads it to the end, cancels it, lets a deadline
/// pass, aborts it with Abort, cuts it with CloseSession, cancels at the first token, or drops the connection under
/// it. Abort and CloseSession calls are counted in <see cref="Control"/>.
/// </summary>
internal sealed class TurnEnder(ServerProcess server, InferenceService.InferenceServiceClient client, TimeProvider time, CancellationToken ct)
{
    public const string Complete = "complete";
    public const string DroppedByClient = "DROPPED_BY_CLIENT";

    public static readonly string[] Modes = [Complete, "client-cancel", "deadline", "abort", "close-session", "cancel-at-first-token", "drop-connection"];

    // No turn outlives this, whatever its mode.
    private static readonly TimeSpan SafetyDeadline = TimeSpan.FromSeconds(120);

    public Tally Control { get; } = new();

    /// <summary>The turn's outcome and, when it is broken, what the client library said.</summary>
    /// <param name="delay">When the cancel, deadline, Abort, CloseSession or drop happens, from the start.</param>
    public async Task<(string Outcome, string? Detail)> RunAsync(string mode, GenerateRequest request, TimeSpan delay)
    {
        var deadline = time.GetUtcNow().UtcDateTime + (mode == "deadline" ? delay + TimeSpan.FromMilliseconds(10) : SafetyDeadline);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var own = mode == "drop-connection" ? GrpcChannel.ForAddress(server.Target) : null;
        var turnClient = own is null ? client : new InferenceService.InferenceServiceClient(own);
        Task? side = mode switch
        {
            "client-cancel" => LaterAsync(delay, () => cancel.CancelAsync()),
            "abort" => ControlLaterAsync(delay, () => client.AbortAsync(new AbortRequest { RequestId = request.RequestId }, cancellationToken: ct).ResponseAsync),
            "close-session" => ControlLaterAsync(delay, () => client.CloseSessionAsync(new CloseSessionRequest { SessionId = request.SessionId }, cancellationToken: ct).ResponseAsync),
            "drop-connection" => LaterAsync(delay, () =>
            {
                own!.Dispose();
                return Task.CompletedTask;
            }),
            _ => null,
        };
        CallResult? result = null;
        try
        {
            result = await GenerateCall.RunAsync(turnClient, request, time, deadline, cancel.Token, message =>
            {
                if (mode == "cancel-at-first-token" && message.Chunk is not null)
                {
                    cancel.Cancel();
                }
            });
        }
        catch (ObjectDisposedException) when (mode == "drop-connection")
        {
            // Dropped before the call could even start (a delay of 0 ms).
        }

        if (side is not null)
        {
            await side;
        }

        // The connection was closed under the call on purpose: whatever the client library made of it is this side's doing.
        if (result is null)
        {
            return (DroppedByClient, null);
        }

        string outcome = mode == "drop-connection" && result.Error is not null ? DroppedByClient : result.Outcome;
        string? detail = Outcome.IsBroken(outcome) && result.Error is { } error
            ? $"{mode}: {error.Status.Detail}{(error.Status.DebugException is { } inner ? $" ({inner.GetType().Name}: {inner.Message})" : "")}"
            : null;
        return (outcome, detail);
    }

    /// <summary>Prints the turns by how they were ended and the Abort and CloseSession calls, and checks both sets of outcomes.</summary>
    public async Task CheckAsync(RunContext run, Verdict verdict, KindTally turns)
    {
        await turns.PrintAsync(run.Output);
        await run.Output.WriteLineAsync($"Abort and CloseSession calls: {Control.Summary()}");
        verdict.CheckOutcomes(turns.Total, "turn");
        verdict.CheckOutcomes(Control, "Abort or CloseSession call");
    }

    private async Task LaterAsync(TimeSpan delay, Func<Task> action)
    {
        await Task.Delay(delay, time, ct);
        await action();
    }

    private Task ControlLaterAsync(TimeSpan delay, Func<Task> call) => LaterAsync(delay, async () =>
    {
        try
        {
            await call();
            Control.Add(Outcome.Ok);
        }
        catch (RpcException ex)
        {
            Control.Add(ex, cancelledByClient: false);
        }
    });
}
