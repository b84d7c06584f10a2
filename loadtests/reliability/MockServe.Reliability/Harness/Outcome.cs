using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

using Grpc.Core;

namespace MockServe.Reliability.Harness;

/// <summary>
/// How one call ended, as a name to count: OK, the gRPC status code the server sent (INVALID_ARGUMENT...), or a
/// failure to end with any status: NO_STATUS (the stream broke: reset, connection closed, no grpc-status trailer)
/// and NO_ANSWER (nothing came back within the suite's bound).
/// </summary>
internal static class Outcome
{
    public const string Ok = "OK";
    public const string NoStatus = "NO_STATUS";
    public const string NoAnswer = "NO_ANSWER";

    /// <summary>A Generate stream that ended OK without its completion message.</summary>
    public const string OkWithoutCompletion = "OK_WITHOUT_COMPLETION";

    /// <summary>Cancelled by this client itself, with its own token (Abort/CloseSession it sent is counted by the server).</summary>
    public const string ClientCancelled = "CANCELLED_BY_CLIENT";

    /// <summary>
    /// The outcome of a call that threw. Grpc.Net.Client makes a status up when the transport fails: it keeps the
    /// transport exception as <see cref="Status.DebugException"/>, or says no grpc-status came. Those are streams
    /// the server ended without a status; everything else is a status the server sent.
    /// </summary>
    public static string Of(RpcException ex, bool cancelledByClient)
    {
        // A client that cancels aborts its own HTTP/2 request: a read already in flight may then fail with the
        // transport's "The request was aborted" before Grpc.Net.Client sees the cancellation (seen once in 1,695 turns).
        if (cancelledByClient && (ex.StatusCode == StatusCode.Cancelled || IsTransportFailure(ex)))
        {
            return ClientCancelled;
        }

        return IsTransportFailure(ex) ? NoStatus : Name(ex.StatusCode);
    }

    public static bool IsTransportFailure(RpcException ex) =>
        ex.Status.DebugException is not null || ex.Status.Detail.StartsWith("No grpc-status found", StringComparison.Ordinal);

    /// <summary>The outcomes no call may have: the server's own error statuses, and calls that ended without any.</summary>
    public static bool IsBroken(string outcome) => outcome is "UNKNOWN" or "INTERNAL" or OkWithoutCompletion or NoStatus or NoAnswer;

    /// <summary>The proto name of a status code: InvalidArgument is INVALID_ARGUMENT.</summary>
    public static string Name(StatusCode code)
    {
        string name = code.ToString();
        var upper = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                upper.Append('_');
            }

            upper.Append(char.ToUpperInvariant(name[i]));
        }

        return upper.ToString();
    }
}

/// <summary>Counts of outcomes, with the first few details of each broken one to show what happened.</summary>
internal sealed class Tally
{
    private const int ExamplesPerOutcome = 3;

    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _examples = new(StringComparer.Ordinal);

    public void Add(string outcome, string? detail = null)
    {
        _counts.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        if (detail is null)
        {
            return;
        }

        var examples = _examples.GetOrAdd(outcome, _ => new ConcurrentQueue<string>());
        if (examples.Count < ExamplesPerOutcome)
        {
            examples.Enqueue(detail.Length > 300 ? detail[..300] + "..." : detail);
        }
    }

    public void Add(RpcException ex, bool cancelledByClient, string? context = null)
    {
        string outcome = Outcome.Of(ex, cancelledByClient);
        Add(outcome, Outcome.IsBroken(outcome) || outcome == "RESOURCE_EXHAUSTED" ? Describe(ex, context) : null);
    }

    public long this[string outcome] => _counts.GetValueOrDefault(outcome);

    public long Total => _counts.Values.Sum();

    public long Broken => _counts.Where(c => Outcome.IsBroken(c.Key)).Sum(c => c.Value);

    public IEnumerable<string> Outcomes => _counts.Keys;

    /// <summary>"OK 120, INVALID_ARGUMENT 40, ..." most frequent first.</summary>
    public string Summary() => _counts.IsEmpty
        ? "none"
        : string.Join(", ", _counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key} {c.Value:N0}")));

    /// <summary>Example details of the broken outcomes, one line each.</summary>
    public IEnumerable<string> BrokenExamples() => _examples
        .Where(e => Outcome.IsBroken(e.Key))
        .SelectMany(e => e.Value.Select(d => $"{e.Key}: {d}"));

    private static string Describe(RpcException ex, string? context)
    {
        string debug = ex.Status.DebugException is { } inner ? $" ({inner.GetType().Name}: {inner.Message})" : "";
        return $"{(context is null ? "" : context + ": ")}{ex.Status.Detail}{debug}";
    }
}
