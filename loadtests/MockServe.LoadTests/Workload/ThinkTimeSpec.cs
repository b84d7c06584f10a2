using MockServe.Server.Configuration;

namespace MockServe.LoadTests.Workload;

/// <summary>
/// Parses think-time specs: <c>none</c>; <c>fixed:DURATION</c>; <c>exponential:MEAN</c> (or <c>exp:MEAN</c>);
/// <c>per-token:DURATION</c>, the time a reader spends on each output token (about 50ms at 250 words a
/// minute and 0.75 words a token). Durations are written 250ms, 5s, 2m or 1h.
/// </summary>
public static class ThinkTimeSpec
{
    // A day bounds any sensible pause and keeps per-token products far from TimeSpan's range.
    private const double MaxSeconds = 86400;

    public const string AllowedForms = "none, fixed:DURATION, exponential:MEAN, per-token:DURATION (durations such as 250ms, 5s, 2m)";

    /// <summary>Parses <paramref name="spec"/> or throws a <see cref="FormatException"/> naming <paramref name="key"/>.</summary>
    public static IThinkTime Parse(string key, string spec) =>
        TryParse(key, spec, out var thinkTime, out string? error) ? thinkTime : throw new FormatException(error);

    public static bool TryParse(
        string key,
        string? spec,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IThinkTime? thinkTime,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        thinkTime = null;
        string? problem = Parse(spec, ref thinkTime);
        error = problem is null ? null : $"{key} is \"{spec}\": {problem}. Allowed forms: {AllowedForms}";
        return problem is null;
    }

    private static string? Parse(string? spec, ref IThinkTime? thinkTime)
    {
        if (string.IsNullOrWhiteSpace(spec))
        {
            return "a think-time spec is required";
        }

        string trimmed = spec.Trim();
        if (trimmed.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            thinkTime = new FixedThinkTime(TimeSpan.Zero);
            return null;
        }

        int colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return "the kind is missing (KIND:DURATION)";
        }

        string kind = trimmed[..colon].Trim().ToLowerInvariant();
        string arg = trimmed[(colon + 1)..].Trim();
        if (kind is not ("fixed" or "exponential" or "exp" or "per-token"))
        {
            return $"unknown kind \"{kind}\"";
        }

        if (!SettingText.TryParseDuration(arg, out double seconds) || seconds is < 0 or > MaxSeconds)
        {
            return $"\"{arg}\" is not a duration from 0 to 1d";
        }

        var duration = TimeSpan.FromSeconds(seconds);
        thinkTime = kind switch
        {
            "fixed" => new FixedThinkTime(duration),
            "per-token" => new PerTokenThinkTime(duration),
            _ => new ExponentialThinkTime(duration),
        };
        return null;
    }
}
