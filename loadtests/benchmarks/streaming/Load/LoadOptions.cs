namespace MockServe.Benchmarks.Streaming.Load;

/// <summary>What the closed-loop client sends, for how long, and whom it watches.</summary>
internal sealed record LoadOptions
{
    public required Uri Target { get; init; }

    /// <summary>Name of the run in the report (mock, baseline).</summary>
    public string Label { get; init; } = "";

    /// <summary>Concurrent users; each keeps one Generate stream open at a time.</summary>
    public required int Streams { get; init; }

    public int StreamsPerConnection { get; init; } = 100;

    public long PromptTokens { get; init; } = 100;

    public long MaxTokens { get; init; } = 120;

    public bool IgnoreEos { get; init; } = true;

    /// <summary>Wall seconds per model second of the server: token offsets are model time.</summary>
    public double TimeScale { get; init; } = 1.0;

    /// <summary>Users start spread evenly over this span, so their requests do not all begin and end together.</summary>
    public TimeSpan Ramp { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Requests sent before this much time has passed are not measured.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>After the window every call is cancelled; users get this long to wind down.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A count bound beside the time bound: a server that ends streams at once cannot spin a user forever.</summary>
    public int MaxRequestsPerUser { get; init; } = 100_000;

    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Pause between the server answering and the idle RSS sample, for start-up work to settle.</summary>
    public TimeSpan IdleSettle { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The server's process, for CPU and RSS from /proc; none skips them.</summary>
    public int? ServerPid { get; init; }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Streams < 1)
        {
            errors.Add($"--streams: must be at least 1, got {Streams}");
        }

        if (StreamsPerConnection < 1)
        {
            errors.Add($"--streams-per-connection: must be at least 1, got {StreamsPerConnection}");
        }

        if (MaxRequestsPerUser < 1)
        {
            errors.Add($"--max-requests-per-user: must be at least 1, got {MaxRequestsPerUser}");
        }

        if (PromptTokens < 1 || MaxTokens < 1)
        {
            errors.Add($"--prompt-tokens and --max-tokens: must be at least 1, got {PromptTokens} and {MaxTokens}");
        }

        if (!(TimeScale > 0) || double.IsInfinity(TimeScale))
        {
            errors.Add($"--time-scale: must be a positive number, got {TimeScale}");
        }

        if (Window <= TimeSpan.Zero || Warmup < TimeSpan.Zero || Grace < TimeSpan.Zero || Ramp < TimeSpan.Zero)
        {
            errors.Add("--window must be positive; --warmup, --grace and --ramp at least 0");
        }

        if (Ramp > Warmup)
        {
            errors.Add($"--ramp ({Ramp.TotalSeconds} s): must not exceed --warmup ({Warmup.TotalSeconds} s), or users still starting would be measured");
        }

        return errors;
    }
}
