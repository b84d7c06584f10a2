using MockServe.Server.Configuration;

namespace MockServe.LoadTests.Workload;

internal sealed class FixedThinkTime(TimeSpan pause) : IThinkTime
{
    public string Name => pause == TimeSpan.Zero ? "none" : "fixed";

    public string Spec => pause == TimeSpan.Zero ? "none" : $"fixed:{SettingText.FormatDuration(pause.TotalSeconds)}";

    public TimeSpan Next(Random random, long outputTokens) => pause;
}

/// <summary>Exponential pauses of the given mean: independent users looking away, as in a Poisson model.</summary>
internal sealed class ExponentialThinkTime(TimeSpan mean) : IThinkTime
{
    public string Name => "exponential";

    public string Spec => $"exponential:{SettingText.FormatDuration(mean.TotalSeconds)}";

    // Inverse transform: -mean * ln(U) with U in (0, 1].
    public TimeSpan Next(Random random, long outputTokens) =>
        TimeSpan.FromSeconds(-mean.TotalSeconds * Math.Log(1.0 - random.NextDouble()));
}

/// <summary>A pause proportional to the output just read: a reader taking a fixed time per token.</summary>
internal sealed class PerTokenThinkTime(TimeSpan perToken) : IThinkTime
{
    public string Name => "per-token";

    public string Spec => $"per-token:{SettingText.FormatDuration(perToken.TotalSeconds)}";

    public TimeSpan Next(Random random, long outputTokens) => TimeSpan.FromSeconds(perToken.TotalSeconds * Math.Max(0, outputTokens));
}
