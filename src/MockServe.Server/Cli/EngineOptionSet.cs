using System.CommandLine;

using MockServe.Core.Engine;

namespace MockServe.Server.Cli;

/// <summary>The scheduler settings as command-line options, shared by the commands that run the engine.</summary>
public sealed class EngineOptionSet
{
    private static readonly EngineOptions Defaults = new();

    public Option<string> Scheduler { get; } = new("--scheduler")
    {
        Description = "Scheduling policy: chunked-prefill (decodes first, prompt chunks in the step budget) or prefill-first.",
        HelpName = string.Join('|', SchedulingPolicies.Names),
        DefaultValueFactory = _ => Defaults.Scheduler,
    };

    public Option<string> Preemption { get; } = new("--preemption")
    {
        Description = "What happens to a running sequence evicted for lack of HBM: swap (to host DDR) or recompute.",
        HelpName = string.Join('|', PreemptionPolicies.Names),
        DefaultValueFactory = _ => Defaults.Preemption,
    };

    public Option<bool> NoSwap { get; } = new("--no-swap")
    {
        Description = "Drop idle sessions' KV under pressure instead of swapping it to host DDR.",
    };

    public Option<int> BlockSize { get; } = new("--block-size")
    {
        Description = "Tokens per paged KV block.",
        HelpName = "TOKENS",
        DefaultValueFactory = _ => Defaults.BlockSize,
    };

    public Option<int> MaxBatchedTokens { get; } = new("--max-batched-tokens")
    {
        Description = "Token budget of one step (vLLM's max_num_batched_tokens).",
        HelpName = "TOKENS",
        DefaultValueFactory = _ => Defaults.MaxBatchedTokens,
    };

    public Option<int> MaxRunning { get; } = new("--max-running")
    {
        Description = "Sequences running at once (vLLM's max_num_seqs).",
        HelpName = "N",
        DefaultValueFactory = _ => Defaults.MaxRunning,
    };

    public Option<int> MaxWaiting { get; } = new("--max-waiting")
    {
        Description = "Requests that may wait for admission; one more is refused at once.",
        HelpName = "N",
        DefaultValueFactory = _ => Defaults.MaxWaiting,
    };

    public Option<double> SessionTtl { get; } = DurationOption.Create(
        "--session-ttl", "Model time an idle session's KV is kept.", Defaults.SessionTtlSeconds);

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (Option option in new Option[] { Scheduler, Preemption, NoSwap, BlockSize, MaxBatchedTokens, MaxRunning, MaxWaiting, SessionTtl })
        {
            command.Options.Add(option);
        }
    }

    /// <exception cref="CliException">A value is unusable; the message names the option.</exception>
    public EngineOptions Build(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var options = new EngineOptions
        {
            Scheduler = parseResult.GetValue(Scheduler)!,
            Preemption = parseResult.GetValue(Preemption)!,
            SwapEnabled = !parseResult.GetValue(NoSwap),
            BlockSize = parseResult.GetValue(BlockSize),
            MaxBatchedTokens = parseResult.GetValue(MaxBatchedTokens),
            MaxRunning = parseResult.GetValue(MaxRunning),
            MaxWaiting = parseResult.GetValue(MaxWaiting),
            SessionTtlSeconds = parseResult.GetValue(SessionTtl),
        };
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            // EngineOptions names its properties; on the command line they are these flags.
            var flags = new Dictionary<string, Option>
            {
                [nameof(EngineOptions.Scheduler)] = Scheduler,
                [nameof(EngineOptions.Preemption)] = Preemption,
                [nameof(EngineOptions.BlockSize)] = BlockSize,
                [nameof(EngineOptions.MaxBatchedTokens)] = MaxBatchedTokens,
                [nameof(EngineOptions.MaxRunning)] = MaxRunning,
                [nameof(EngineOptions.MaxWaiting)] = MaxWaiting,
                [nameof(EngineOptions.SessionTtlSeconds)] = SessionTtl,
            };
            throw new CliException(string.Join(Environment.NewLine, errors.Select(e => $"{flags[e.Property].Name}: {e.Problem}")));
        }

        return options;
    }
}
