using System.CommandLine;

namespace MockServe.LoadTests.Cli;

/// <summary>The <c>mockserve-load</c> command line.</summary>
public static class LoadCli
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("mockserve-load: NBomber-style load scenarios of long-context, multi-turn streaming clients.");
        var result = root.Parse(args);
        return result.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }
}
