using MockServe.Server.Cli;
using MockServe.Server.Configuration;

namespace MockServe.Server.Tests.Cli;

/// <summary>One run of the command line with both streams captured.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    /// <summary>No appsettings.json and no environment variables: only the flags set anything.</summary>
    public static SettingSources NoSources { get; } = new(null, new Dictionary<string, string>());

    public static CliRun Of(params string[] args) => With(NoSources, args);

    /// <summary>A run whose settings also come from <paramref name="sources"/>, as from the process's file and environment.</summary>
    public static CliRun With(SettingSources sources, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exitCode = CliApp.Run(args, stdout, stderr, sources);
        return new CliRun(exitCode, stdout.ToString(), stderr.ToString());
    }
}
