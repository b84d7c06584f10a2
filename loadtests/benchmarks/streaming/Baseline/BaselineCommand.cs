using System.CommandLine;
using System.Net;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MockServe.Benchmarks.Streaming.Baseline;

/// <summary>
/// <c>baseline</c>: the floor the mock is measured against. Kestrel h2c and grpc-dotnet with nothing else: no
/// engine, no metrics, no health or reflection, logging only from warnings up. It streams the mock's message shape
/// on one shared fixed-period ticker.
/// </summary>
internal static class BaselineCommand
{
    public static Command Create()
    {
        var port = BenchCli.Option("--port", "Loopback port of the gRPC server (h2c).", 50161);
        var stepMs = BenchCli.Option("--step-ms", "Period of the shared ticker: every open stream gets one token per tick.", 20.0);
        var ttftMs = BenchCli.Option("--ttft-ms", "Time from a request's arrival to the first tick that may send its first token.", 50.0);
        var maxStreams = BenchCli.Option("--max-streams-per-connection", "Kestrel's HTTP/2 stream limit per connection (the mock's default is 1000).", 1000);
        var command = new Command("baseline", "Serve mockserve.v1.InferenceService/Generate from a bare grpc-dotnet server on a fixed ticker.");
        foreach (Option option in new Option[] { port, stepMs, ttftMs, maxStreams })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, ct) =>
        {
            double step = parseResult.GetValue(stepMs);
            double ttft = parseResult.GetValue(ttftMs);
            if (!(step > 0) || !(ttft >= 0) || double.IsInfinity(step) || double.IsInfinity(ttft))
            {
                return BenchCli.Fail(parseResult, $"--step-ms must be positive and --ttft-ms at least 0, got {step} and {ttft}");
            }

            await ServeAsync(parseResult.GetValue(port), TimeSpan.FromMilliseconds(step), TimeSpan.FromMilliseconds(ttft), parseResult.GetValue(maxStreams), ct);
            return BenchCli.ExitOk;
        });
        return command;
    }

    private static async Task ServeAsync(int port, TimeSpan step, TimeSpan ttft, int maxStreamsPerConnection, CancellationToken ct)
    {
        // The slim builder leaves out what the mock's host adds on top of gRPC (config files, console formatting).
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2);
            k.Limits.Http2.MaxStreamsPerConnection = maxStreamsPerConnection;
        });
        var ticker = new StepTicker(TimeProvider.System, step, ttft);
        builder.Services.AddSingleton(ticker);
        builder.Services.AddGrpc();

        await using var app = builder.Build();
        app.MapGrpcService<BaselineInferenceService>();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(ct, app.Lifetime.ApplicationStopping);
        var ticking = ticker.RunAsync(stopping.Token);
        await app.StartAsync(ct);
        await app.WaitForShutdownAsync(ct);
        await stopping.CancelAsync();
        await ticking;
    }
}
