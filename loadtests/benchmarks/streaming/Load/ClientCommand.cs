using System.CommandLine;
using System.Text.Json;

namespace MockServe.Benchmarks.Streaming.Load;

/// <summary><c>client</c>: the closed-loop load against a mock or baseline server.</summary>
internal static class ClientCommand
{
    public static Command Create()
    {
        var defaults = new LoadOptions { Target = new Uri("http://127.0.0.1:50151"), Streams = 1000 };
        var target = BenchCli.Option("--target", "gRPC address of the server (h2c).", defaults.Target.ToString());
        var label = BenchCli.Option("--label", "Name of the run in the report.", "server");
        var streams = BenchCli.Option("--streams", "Concurrent users, each with one Generate stream open at a time (closed loop).", defaults.Streams);
        var perConnection = BenchCli.Option("--streams-per-connection", "Users sharing one HTTP/2 connection.", defaults.StreamsPerConnection);
        var prompt = BenchCli.Option("--prompt-tokens", "prompt_tokens of every request.", defaults.PromptTokens);
        var maxTokens = BenchCli.Option("--max-tokens", "max_tokens of every request.", defaults.MaxTokens);
        var ignoreEos = BenchCli.Option("--ignore-eos", "ignore_eos of every request: generate exactly max_tokens.", defaults.IgnoreEos);
        var timeScale = BenchCli.Option("--time-scale", "The server's wall seconds per model second.", defaults.TimeScale);
        var ramp = BenchCli.Option("--ramp", "Seconds over which users start, evenly spread.", defaults.Ramp.TotalSeconds);
        var warmup = BenchCli.Option("--warmup", "Seconds from the first request before measured requests start.", defaults.Warmup.TotalSeconds);
        var window = BenchCli.Option("--window", "Seconds of measurement after the warm-up.", defaults.Window.TotalSeconds);
        var grace = BenchCli.Option("--grace", "Seconds users get to stop after the window's calls are cancelled.", defaults.Grace.TotalSeconds);
        var maxRequests = BenchCli.Option("--max-requests-per-user", "Requests one user sends at most, whatever time is left.", defaults.MaxRequestsPerUser);
        var readyTimeout = BenchCli.Option("--ready-timeout", "Seconds to wait for the server to answer.", defaults.ReadyTimeout.TotalSeconds);
        var serverPid = new Option<int?>("--server-pid") { Description = "The server's process id: CPU and RSS from /proc over the window." };
        var json = new Option<FileInfo?>("--json") { Description = "Write the result as one JSON object to this file." };
        var command = new Command("client", "Drive N concurrent Generate streams in a closed loop and measure token lateness, throughput and the server's CPU and RSS.");
        foreach (Option option in new Option[] { target, label, streams, perConnection, prompt, maxTokens, ignoreEos, timeScale, ramp, warmup, window, grace, maxRequests, readyTimeout, serverPid, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, ct) =>
        {
            if (!Uri.TryCreate(parseResult.GetValue(target), UriKind.Absolute, out var uri))
            {
                return BenchCli.Fail(parseResult, $"--target: not an absolute URI: '{parseResult.GetValue(target)}'");
            }

            var options = new LoadOptions
            {
                Target = uri,
                Label = parseResult.GetValue(label)!,
                Streams = parseResult.GetValue(streams),
                StreamsPerConnection = parseResult.GetValue(perConnection),
                PromptTokens = parseResult.GetValue(prompt),
                MaxTokens = parseResult.GetValue(maxTokens),
                IgnoreEos = parseResult.GetValue(ignoreEos),
                TimeScale = parseResult.GetValue(timeScale),
                Ramp = Seconds(parseResult.GetValue(ramp)),
                Warmup = Seconds(parseResult.GetValue(warmup)),
                Window = Seconds(parseResult.GetValue(window)),
                Grace = Seconds(parseResult.GetValue(grace)),
                MaxRequestsPerUser = parseResult.GetValue(maxRequests),
                ReadyTimeout = Seconds(parseResult.GetValue(readyTimeout)),
                ServerPid = parseResult.GetValue(serverPid),
            };
            var errors = options.Validate();
            if (errors.Count > 0)
            {
                return BenchCli.Fail(parseResult, string.Join(Environment.NewLine + "error: ", errors));
            }

            var report = await new LoadRunner(options, TimeProvider.System).RunAsync(ct);
            await parseResult.InvocationConfiguration.Output.WriteAsync(report.Summary());
            if (parseResult.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, JsonSerializer.Serialize(report, LoadReport.Json), ct);
            }

            return BenchCli.ExitOk;
        });
        return command;
    }

    // Non-finite seconds become a negative span, which LoadOptions.Validate refuses with the option's name.
    private static TimeSpan Seconds(double seconds) => double.IsFinite(seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.MinValue;
}
