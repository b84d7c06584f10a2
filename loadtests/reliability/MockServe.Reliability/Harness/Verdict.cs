using System.Globalization;

namespace MockServe.Reliability.Harness;

/// <summary>
/// A suite's checks, each printed as it is decided (PASS or FAIL, its name, the figures behind it); the exit code is
/// non-zero when any failed.
/// </summary>
internal sealed class Verdict(RunContext run)
{
    private readonly List<(string Name, bool Passed)> _checks = [];

    public bool AllPassed => _checks.TrueForAll(c => c.Passed);

    public void Check(string name, bool passed, string detail)
    {
        _checks.Add((name, passed));
        run.Output.WriteLine($"{(passed ? "PASS" : "FAIL")} {name}: {detail}");
    }

    /// <summary>The checks every suite makes of its call outcomes: every call ended with a status, none UNKNOWN or INTERNAL.</summary>
    public void CheckOutcomes(Tally tally, string what)
    {
        long noStatus = tally[Outcome.NoStatus] + tally[Outcome.NoAnswer];
        Check($"every {what} ended with a gRPC status", noStatus == 0,
            noStatus == 0 ? $"{tally.Total:N0} {what}s" : $"{noStatus:N0} of {tally.Total:N0} ended without one (NO_STATUS {tally[Outcome.NoStatus]:N0}, NO_ANSWER {tally[Outcome.NoAnswer]:N0})");
        long errors = tally["UNKNOWN"] + tally["INTERNAL"] + tally[Outcome.OkWithoutCompletion];
        Check($"no {what} ended UNKNOWN or INTERNAL", errors == 0, string.Create(CultureInfo.InvariantCulture,
            $"UNKNOWN {tally["UNKNOWN"]:N0}, INTERNAL {tally["INTERNAL"]:N0}{(tally[Outcome.OkWithoutCompletion] > 0 ? $", OK without a completion {tally[Outcome.OkWithoutCompletion]:N0}" : "")}"));
        foreach (string example in tally.BrokenExamples())
        {
            run.Output.WriteLine($"  e.g. {example}");
        }
    }

    /// <summary>The crash check: the server process still runs when the suite is done with it.</summary>
    public void CheckAlive(ServerProcess server) =>
        Check("the server survived", !server.HasExited,
            server.HasExited ? $"the process exited with code {server.ExitCode}{Environment.NewLine}{server.LogTail(30)}" : $"pid {server.Pid} still running");

    /// <summary>Prints the closing line and returns the exit code: 0 when every check passed.</summary>
    public int Finish(TimeSpan took)
    {
        int failed = _checks.Count(c => !c.Passed);
        run.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{run.Suite}: {(failed == 0 ? "PASSED" : "FAILED")}, {_checks.Count - failed} of {_checks.Count} checks passed in {took.TotalSeconds:0.0} s"));
        return failed == 0 ? 0 : 1;
    }
}
