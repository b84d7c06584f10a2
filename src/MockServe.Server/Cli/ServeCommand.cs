using System.CommandLine;
using System.Globalization;

using MockServe.Server.Hosting;

namespace MockServe.Server.Cli;

/// <summary>
/// <c>mockserve serve</c>: the gRPC server. Settings come from appsettings.json, then environment variables
/// (MockServe__Server__Port=50052), then the options given on the command line.
/// </summary>
internal static class ServeCommand
{
    public static Command Create() => Configure(new Command("serve", "Serve the gRPC API (h2c) with health, reflection and Prometheus metrics."));

    /// <summary>Adds the serve options and action to <paramref name="command"/> (the root command serves too).</summary>
    public static T Configure<T>(T command)
        where T : Command
    {
        var deployment = new DeploymentOptions();
        var engine = new EngineOptionSet();
        var port = NewOption<int>("--port", "gRPC port (h2c).", "N");
        var metricsPort = NewOption<int>("--metrics-port", "Port of Prometheus text at /metrics.", "N");
        var bind = NewOption<string>("--bind", "Address both ports bind to (loopback unless set).", "IP");
        var timeScale = NewOption<double>("--time-scale", "Wall seconds per model second: 0.01 runs the modelled GPU 100 times faster than life.", "F");
        var drain = DurationOption.Create("--drain", "Wall time streams in flight may take to finish at shutdown.", 30);
        var maxTokens = NewOption<long>("--default-max-tokens", "max_tokens of a request that does not set it.", "N");
        var seed = NewOption<int>("--seed", "Seed of the pseudo-text, the modelled end-of-sequence and failure injection.", "S");
        var tokenText = NewOption<string>("--token-text", "Generated text: pseudo (seeded words) or echo (the prompt's words).", "pseudo|echo");
        var tokenizer = NewOption<string>("--tokenizer", "Counting text prompts: o200k (tiktoken) or approx (4 characters a token).", "o200k|approx");
        var reference = NewOption<long>("--reference-context", "Context length behind mockserve_max_concurrent_users.", "TOKENS");
        var vllm = new Option<bool>("--vllm-metrics") { Description = "Also export vLLM's metric names (vllm:...)." };
        var failureRate = NewOption<double>("--failure-rate", "Fraction of requests that fail on purpose, 0 to 1.", "F");
        var failureKinds = new Option<string[]>("--failure-kinds")
        {
            Description = "Failure kinds drawn from: refuse, abort, stall.",
            HelpName = "KIND",
            AllowMultipleArgumentsPerToken = true,
        };
        var stall = DurationOption.Create("--stall", "Model time an injected stall holds a stream.", 10);

        // Each option given on the command line overrides one configuration key; an option left out does not.
        var keys = new List<(Option Option, string Key)>
        {
            (port, "MockServe:Server:Port"),
            (metricsPort, "MockServe:Server:MetricsPort"),
            (bind, "MockServe:Server:BindAddress"),
            (timeScale, "MockServe:Server:TimeScale"),
            (drain, "MockServe:Server:DrainSeconds"),
            (maxTokens, "MockServe:Server:DefaultMaxTokens"),
            (seed, "MockServe:Server:Seed"),
            (tokenText, "MockServe:Server:TokenText"),
            (tokenizer, "MockServe:Server:Tokenizer"),
            (reference, "MockServe:Server:ReferenceContextTokens"),
            (vllm, "MockServe:Server:VllmMetrics"),
            (failureRate, "MockServe:FailureInjection:Rate"),
            (stall, "MockServe:FailureInjection:StallSeconds"),
            (deployment.Model, "MockServe:Profile:Model"),
            (deployment.Gpu, "MockServe:Profile:Gpu"),
            (deployment.TensorParallel, "MockServe:Profile:TensorParallel"),
            (deployment.KvLayers, "MockServe:Profile:KvLayers"),
            (deployment.KvHeads, "MockServe:Profile:KvHeads"),
            (deployment.KvTokens, "MockServe:Profile:KvTokens"),
            (deployment.KvBits, "MockServe:Profile:KvBits"),
            (deployment.PrefillUtilization, "MockServe:Profile:PrefillUtilization"),
            (deployment.DecodeUtilization, "MockServe:Profile:DecodeUtilization"),
            (engine.Scheduler, "MockServe:Engine:Scheduler"),
            (engine.Preemption, "MockServe:Engine:Preemption"),
            (engine.BlockSize, "MockServe:Engine:BlockSize"),
            (engine.MaxBatchedTokens, "MockServe:Engine:MaxBatchedTokens"),
            (engine.MaxRunning, "MockServe:Engine:MaxRunning"),
            (engine.MaxWaiting, "MockServe:Engine:MaxWaiting"),
            (engine.SessionTtl, "MockServe:Engine:SessionTtlSeconds"),
        };
        deployment.AddTo(command);
        engine.AddTo(command);
        foreach (var option in new Option[] { port, metricsPort, bind, timeScale, drain, maxTokens, seed, tokenText, tokenizer, reference, vllm, failureRate, failureKinds, stall })
        {
            command.Options.Add(option);
        }

        command.SetAction(parseResult =>
        {
            var overrides = new Dictionary<string, string?>();
            foreach (var (option, key) in keys)
            {
                if (parseResult.GetResult(option) is { Implicit: false } && parseResult.GetValue<object?>(option.Name) is { } value)
                {
                    overrides[key] = Convert.ToString(value, CultureInfo.InvariantCulture);
                }
            }

            if (parseResult.GetResult(engine.NoSwap) is { Implicit: false } && parseResult.GetValue(engine.NoSwap))
            {
                overrides["MockServe:Engine:SwapEnabled"] = "false";
            }

            if (parseResult.GetValue(failureKinds) is { Length: > 0 } kinds)
            {
                for (int i = 0; i < kinds.Length; i++)
                {
                    overrides[$"MockServe:FailureInjection:Kinds:{i}"] = kinds[i];
                }
            }

            try
            {
                MockServeApp.Build(overrides).Run();
                return CliApp.ExitOk;
            }
            catch (ConfigurationException ex)
            {
                return CliApp.Fail(parseResult, ex.Message);
            }
        });
        return command;
    }

    private static Option<TValue> NewOption<TValue>(string name, string description, string helpName) => new(name)
    {
        Description = description,
        HelpName = helpName,
    };
}
