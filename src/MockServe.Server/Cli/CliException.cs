namespace MockServe.Server.Cli;

/// <summary>
/// A command-line value that cannot be used. <see cref="CliApp.Run"/> prints the message (which names the
/// option) to stderr and exits with <see cref="CliApp.ExitError"/>; no stack trace, it is the user's input.
/// </summary>
public sealed class CliException(string message) : Exception(message);
