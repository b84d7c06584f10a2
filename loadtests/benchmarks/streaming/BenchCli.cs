using System.CommandLine;
using System.CommandLine.Parsing;

using MockServe.Benchmarks.Streaming.Baseline;
using MockServe.Benchmarks.Streaming.ColdStart;
using MockServe.Benchmarks.Streaming.Load;
using MockServe.Benchmarks.Streaming.Report;
using MockServe.Benchmarks.Streaming.ScrapeCheck;

namespace MockServe.Benchmarks.Streaming;

/// <summary>
/// The streaming benchmark's command line: a bare gRPC server to compare the mock against (<c>baseline</c>), the
/// closed-loop load driver (<c>client</c>), the metrics-scrape interference check (<c>scrape-check</c>) and the
/// side-by-side table <c>run.sh</c> prints (<c>report</c>), and the first requests after a start (<c>cold-start</c>).
/// </summary>
internal static class BenchCli
{
    public const int ExitOk = 0;
    public const int ExitError = 1;

    public static int Run(string[] args)
    {
        var root = new RootCommand("MockServe streaming benchmark: the mock against a bare grpc-dotnet server, token by token.");
        root.Subcommands.Add(BaselineCommand.Create());
        root.Subcommands.Add(ClientCommand.Create());
        root.Subcommands.Add(ScrapeCheckCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(ColdStartCommand.Create());
        return root.Parse(args).Invoke();
    }

    /// <summary>A required option or one with a default, described for --help.</summary>
    public static Option<T> Option<T>(string name, string description, T defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
    };

    /// <summary>Reports a bad argument on stderr and returns <see cref="ExitError"/>.</summary>
    public static int Fail(ParseResult parseResult, string message)
    {
        parseResult.InvocationConfiguration.Error.WriteLine($"error: {message}");
        return ExitError;
    }
}
