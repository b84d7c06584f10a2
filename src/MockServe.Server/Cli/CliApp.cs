using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

using MockServe.Core.Profiles;
using MockServe.Server.Configuration;

namespace MockServe.Server.Cli;

/// <summary>
/// The <c>mockserve</c> command line. Commands write through <see cref="Out"/> and <see cref="Error"/>, never
/// <see cref="Console"/>, so <see cref="Run"/> can hand them any writers (tests capture both).
/// </summary>
public static class CliApp
{
    public const int ExitOk = 0;
    public const int ExitError = 1;

    /// <summary>The root command with every subcommand; a new command adds one line here.</summary>
    /// <param name="sources">Where settings come from besides the flags: appsettings.json and the environment.</param>
    public static RootCommand CreateRootCommand(SettingSources sources)
    {
        var root = new RootCommand("MockServe: a gRPC mock of an LLM inference server whose GPU is a roofline cost model.");
        root.Subcommands.Add(ProfilesCommand.Create());
        root.Subcommands.Add(EstimateCommand.Create(sources));
        root.Subcommands.Add(SimulateCommand.Create(sources));
        root.Subcommands.Add(CapacityCommand.Create(sources));
        root.Subcommands.Add(CalibrateCommand.Create(sources));
        root.Subcommands.Add(ServeCommand.Create(sources));
        root.Subcommands.Add(ProbeCommand.Create());
        // A bare `mockserve` serves on the default profile, as `mockserve serve` does.
        ServeCommand.Configure(root, sources);
        return root;
    }

    /// <summary>
    /// Parses <paramref name="args"/> and runs the chosen command. Parse errors, unusable settings and
    /// <see cref="ProfileException"/> go to <paramref name="stderr"/> with exit code <see cref="ExitError"/>.
    /// </summary>
    /// <param name="sources">appsettings.json and environment variables; the process's unless a test passes its own.</param>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, SettingSources? sources = null)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        var parseResult = CreateRootCommand(sources ?? SettingSources.FromProcess()).Parse(args);
        var parseError = parseResult.Action as ParseErrorAction;
        bool parseFailed = parseError is not null;
        if (parseError is not null)
        {
            // The full help after every typo buries the error; a hint to --help follows instead.
            parseError.ShowHelp = false;
        }

        var configuration = new InvocationConfiguration
        {
            // The parse error action prints its typo suggestions to Output; they belong with the error.
            Output = parseFailed ? stderr : stdout,
            Error = stderr,
            // User errors are reported below without a stack trace; anything else is a bug and should crash.
            EnableDefaultExceptionHandler = false,
            // The server handles Ctrl+C and SIGTERM itself, to drain streams in flight; the parser must not cut it short.
            ProcessTerminationTimeout = null,
        };
        try
        {
            int exitCode = parseResult.Invoke(configuration);
            if (parseFailed)
            {
                stderr.WriteLine($"Run '{HelpCommandLine(parseResult)}' for usage.");
            }

            return exitCode;
        }
        catch (ProfileException ex)
        {
            return Fail(stderr, ex.Message);
        }
        catch (Exception ex) when (SettingsFailure.TryGetLines(ex, out var lines))
        {
            return Fail(stderr, string.Join(Environment.NewLine, lines));
        }
    }

    /// <summary>Where a command writes its result.</summary>
    public static TextWriter Out(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        return parseResult.InvocationConfiguration.Output;
    }

    /// <summary>Where a command writes errors and warnings.</summary>
    public static TextWriter Error(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        return parseResult.InvocationConfiguration.Error;
    }

    /// <summary>
    /// Writes <paramref name="message"/> (one "error: " line per message line) to the command's error writer
    /// and returns <see cref="ExitError"/>: <c>return CliApp.Fail(parseResult, "--rate: must be positive");</c>.
    /// </summary>
    public static int Fail(ParseResult parseResult, string message) => Fail(Error(parseResult), message);

    private static int Fail(TextWriter stderr, string message)
    {
        foreach (string line in message.Split(Environment.NewLine))
        {
            stderr.WriteLine($"error: {line}");
        }

        return ExitError;
    }

    private static string HelpCommandLine(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as CommandResult)
        {
            names.Add(result.Command is RootCommand ? "mockserve" : result.Command.Name);
        }

        names.Reverse();
        return $"{string.Join(' ', names)} --help";
    }
}
