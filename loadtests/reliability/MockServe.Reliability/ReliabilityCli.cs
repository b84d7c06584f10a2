using System.CommandLine;

using MockServe.Reliability.Drain;
using MockServe.Reliability.Flood;
using MockServe.Reliability.Frames;
using MockServe.Reliability.Fuzz;
using MockServe.Reliability.Harness;
using MockServe.Reliability.Overload;
using MockServe.Reliability.Soak;
using MockServe.Reliability.Storm;

namespace MockServe.Reliability;

/// <summary>
/// The reliability suites, one subcommand each. Every suite starts its own server, drives it over loopback, prints
/// its counts and checks, always stops the server, and exits 1 when a check failed (2 when the suite itself could
/// not run).
/// </summary>
internal static class ReliabilityCli
{
    public const int ExitError = 2;

    public static int Run(string[] args)
    {
        var root = new RootCommand("MockServe reliability suites: fuzzing, overload, cancellation, session flood, soak and shutdown, against a real server process.");
        root.Subcommands.Add(FuzzSuite.Create());
        root.Subcommands.Add(FrameFuzzSuite.Create());
        root.Subcommands.Add(OverloadSuite.Create());
        root.Subcommands.Add(CancelStormSuite.Create());
        root.Subcommands.Add(SessionFloodSuite.Create());
        root.Subcommands.Add(SoakSuite.Create());
        root.Subcommands.Add(SigtermSuite.Create());
        return root.Parse(args).Invoke();
    }

    /// <summary>An option with a default, described for --help.</summary>
    public static Option<T> Option<T>(string name, string description, T defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
    };

    /// <summary>An option whose default depends on --smoke: absent means "the suite's smoke or full figure".</summary>
    public static Option<T?> Sized<T>(string name, string description)
        where T : struct => new(name) { Description = description };

    /// <summary>
    /// A suite command with the options every suite shares (--smoke, --seed, --server-dll, --keep-logs) and its own;
    /// the body gets the run's context and a verdict to record checks in.
    /// </summary>
    public static Command Suite(string name, string description, Option[] options, Func<ParseResult, RunContext, Verdict, CancellationToken, Task> body)
    {
        var smoke = Option("--smoke", "The short version (seconds), as CI runs it.", false);
        var seed = Option("--seed", "Seed of every random draw: the same seed sends the same calls.", 1);
        var dll = Option("--server-dll", "The server to start (mockserve.dll).", DefaultServerDll());
        var keepLogs = Option("--keep-logs", "Keep the server's log file even when every check passed.", false);
        var command = new Command(name, description);
        foreach (var option in new Option[] { smoke, seed, dll, keepLogs }.Concat(options))
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, ct) =>
        {
            var time = TimeProvider.System;
            var output = parseResult.InvocationConfiguration.Output;
            var run = new RunContext(name, parseResult.GetValue(dll)!, parseResult.GetValue(seed), parseResult.GetValue(smoke),
                parseResult.GetValue(keepLogs), time, output);
            await output.WriteLineAsync($"== {name}{(run.Smoke ? " (smoke)" : "")}, seed {run.Seed}");
            long start = time.GetTimestamp();
            var verdict = new Verdict(run);
            try
            {
                await body(parseResult, run, verdict, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                await parseResult.InvocationConfiguration.Error.WriteLineAsync($"error: {name} could not run: {ex}");
                return ExitError;
            }

            return verdict.Finish(time.GetElapsedTime(start));
        });
        return command;
    }

    /// <summary>Starts the suite's server, runs <paramref name="body"/> against it and always stops it; the log is kept when a check failed.</summary>
    public static async Task WithServerAsync(RunContext run, Verdict verdict, ServerSpec spec, Func<ServerProcess, Task> body, CancellationToken ct)
    {
        var server = await ServerProcess.StartAsync(run, spec, ct);
        bool keep = run.KeepLogs;
        try
        {
            await body(server);
        }
        catch
        {
            keep = true;
            throw;
        }
        finally
        {
            keep |= !verdict.AllPassed;
            if (server.ErrorLines > 0)
            {
                await run.Output.WriteLineAsync($"server log: {server.ErrorLines} line(s) at error level");
            }

            await server.StopAsync(keep);
            if (keep)
            {
                await run.Output.WriteLineAsync($"server log kept: {server.LogPath}");
            }
        }
    }

    /// <summary>The Release build of the server in this repository, found from where this program runs.</summary>
    private static string DefaultServerDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MockServe.sln")))
            {
                return Path.Combine(dir.FullName, "src", "MockServe.Server", "bin", "Release", "net10.0", "mockserve.dll");
            }
        }

        return "mockserve.dll";
    }
}
