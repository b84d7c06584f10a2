namespace MockServe.LoadTests.Workload;

/// <summary>
/// How long a user waits after a turn before sending the next, written as a spec string (see
/// <see cref="ThinkTimeSpec"/>): <c>none</c>, <c>fixed:2s</c>, <c>exponential:5s</c> or <c>per-token:50ms</c>.
/// </summary>
public interface IThinkTime
{
    /// <summary>The kind: none, fixed, exponential or per-token.</summary>
    string Name { get; }

    /// <summary>The spec string that reproduces this think time, for reports.</summary>
    string Spec { get; }

    /// <summary>The pause after a turn whose output had <paramref name="outputTokens"/> tokens.</summary>
    TimeSpan Next(Random random, long outputTokens);
}
