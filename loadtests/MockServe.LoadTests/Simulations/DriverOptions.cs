namespace MockServe.LoadTests.Simulations;

/// <summary>What happens to an invocation due while <see cref="DriverOptions.MaxInFlight"/> are already running.</summary>
public enum OverflowPolicy
{
    /// <summary>It waits for a slot, first come first served; the wait is timed and counted.</summary>
    Queue,

    /// <summary>It is counted and not run. Applies to open steps: a closed copy always waits for its slot.</summary>
    Drop,
}

/// <summary>Settings of a <see cref="LoadDriver"/>.</summary>
public sealed class DriverOptions
{
    /// <summary>The most grace or cancel wait accepted.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromHours(1);

    /// <summary>The cap on invocations in flight; <see cref="int.MaxValue"/> (the default) is no cap.</summary>
    public int MaxInFlight { get; init; } = int.MaxValue;

    /// <summary>What to do with an invocation due at the cap.</summary>
    public OverflowPolicy Overflow { get; init; } = OverflowPolicy.Queue;

    /// <summary>How long invocations still in flight at the plan's end may run on before they are cancelled.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for cancelled invocations to return; those that do not are reported abandoned.</summary>
    public TimeSpan CancelWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Tests: call the scenario on the scheduling thread instead of the thread pool, so a fake clock drives the whole
    /// run deterministically. Real runs keep it off: a scenario's synchronous prefix must not delay the schedule.
    /// </summary>
    internal bool StartInline { get; init; }

    /// <summary>Every setting out of range, each naming the setting, its value and what is allowed; empty when all are good.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxInFlight < 1)
        {
            errors.Add($"{nameof(MaxInFlight)} must be at least 1 ({int.MaxValue} for no cap); got {MaxInFlight}.");
        }

        if (!Enum.IsDefined(Overflow))
        {
            errors.Add($"{nameof(Overflow)} must be {nameof(OverflowPolicy.Queue)} or {nameof(OverflowPolicy.Drop)}; got {(int)Overflow}.");
        }

        if (Grace < TimeSpan.Zero || Grace > MaxWait)
        {
            errors.Add($"{nameof(Grace)} must be between 0s and {Ticks.Describe(MaxWait)}; got {Ticks.Describe(Grace)}.");
        }

        if (CancelWait < TimeSpan.Zero || CancelWait > MaxWait)
        {
            errors.Add($"{nameof(CancelWait)} must be between 0s and {Ticks.Describe(MaxWait)}; got {Ticks.Describe(CancelWait)}.");
        }

        return errors;
    }
}
