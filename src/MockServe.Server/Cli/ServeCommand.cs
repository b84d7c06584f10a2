using System.CommandLine;

using Microsoft.AspNetCore.Connections;

using MockServe.Server.Configuration;
using MockServe.Server.Hosting;

namespace MockServe.Server.Cli;

/// <summary>
/// <c>mockserve serve</c>: the gRPC server. Settings come from appsettings.json, then environment variables
/// (MockServe__Server__Port=50052), then the flags given on the command line.
/// </summary>
internal static class ServeCommand
{
    /// <summary>Serve uses every section.</summary>
    public static IReadOnlyList<SettingsSection> Sections => Settings.All;

    public static Command Create(SettingSources sources) =>
        Configure(new Command("serve", "Serve the gRPC API (h2c, or HTTP/2 over TLS) with health, reflection and Prometheus metrics."), sources);

    /// <summary>Adds the serve options and action to <paramref name="command"/> (the root command serves too).</summary>
    public static T Configure<T>(T command, SettingSources sources)
        where T : Command
    {
        SettingsFlags.AddTo(command, Sections);
        command.SetAction(parseResult =>
        {
            // A bad setting stops Build with every problem listed; CliApp.Run prints them.
            var app = MockServeApp.Build(sources, SettingsFlags.Overrides(parseResult, Sections));
            try
            {
                app.Run();
            }
            catch (IOException ex) when (ex.InnerException is AddressInUseException || ex.Message.StartsWith("Failed to bind", StringComparison.Ordinal))
            {
                // A port another process holds is the user's to change, not a crash: Kestrel's message names the address.
                return CliApp.Fail(parseResult, $"{ex.Message.TrimEnd('.')}: choose another port (--port, --metrics-port, --http-port)");
            }

            return CliApp.ExitOk;
        });
        return command;
    }
}
