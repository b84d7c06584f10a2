using System.CommandLine;

using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

using MockServe.Server.Hosting;

namespace MockServe.Server.Cli;

/// <summary>
/// <c>mockserve probe</c>: one grpc.health.v1 Check, exit 0 when SERVING and 1 otherwise. Container images carry no
/// grpc_health_probe, and the server's own binary already has the health client, so a Dockerfile HEALTHCHECK runs this.
/// </summary>
internal static class ProbeCommand
{
    public const string DefaultTarget = "http://127.0.0.1:50051";

    public static Command Create()
    {
        var target = new Option<string>("--target")
        {
            Description = "The server to ask, h2c (http://) only.",
            HelpName = "URL",
            DefaultValueFactory = _ => DefaultTarget,
        };
        var service = new Option<string>("--service")
        {
            Description = $"Health service name: {MockServeApp.ReadyService} (readiness: NOT_SERVING while warming up or draining) or \"\" (liveness).",
            HelpName = "NAME",
            DefaultValueFactory = _ => MockServeApp.ReadyService,
        };
        var timeout = DurationOption.Create("--timeout", "Wall time the check may take before it counts as a failure.", defaultSeconds: 3);
        var command = new Command("probe", "Ask a server's grpc.health.v1 service once; exit 0 when SERVING, 1 otherwise (for container health checks).")
        {
            target,
            service,
            timeout,
        };
        command.SetAction(async (parseResult, ct) =>
        {
            string url = parseResult.GetValue(target)!;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var address) || address.Scheme != Uri.UriSchemeHttp)
            {
                return CliApp.Fail(parseResult, $"--target is \"{url}\": expected an http:// URL such as {DefaultTarget}");
            }

            string name = parseResult.GetValue(service)!;
            var (status, detail) = await CheckAsync(address, name, TimeSpan.FromSeconds(parseResult.GetValue(timeout)), ct);
            string shown = name.Length == 0 ? "\"\"" : name;
            if (status == HealthCheckResponse.Types.ServingStatus.Serving)
            {
                await CliApp.Out(parseResult).WriteLineAsync($"{shown} at {address}: SERVING");
                return CliApp.ExitOk;
            }

            return CliApp.Fail(parseResult, $"{shown} at {address}: {detail}");
        });
        return command;
    }

    /// <summary>The service's status, or null with what went wrong when the call itself failed.</summary>
    private static async Task<(HealthCheckResponse.Types.ServingStatus? Status, string Detail)> CheckAsync(
        Uri address, string service, TimeSpan timeout, CancellationToken ct)
    {
        using var channel = GrpcChannel.ForAddress(address);
        var client = new Health.HealthClient(channel);
        try
        {
            var reply = await client.CheckAsync(new HealthCheckRequest { Service = service }, deadline: TimeProvider.System.GetUtcNow().UtcDateTime + timeout, cancellationToken: ct);
            return (reply.Status, reply.Status.ToString());
        }
        catch (RpcException ex)
        {
            return (null, $"{ex.StatusCode} ({ex.Status.Detail})");
        }
    }
}
