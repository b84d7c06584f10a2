namespace MockServe.Core.Profiles;

/// <summary>
/// One unusable setting: <see cref="Property"/> names it as the validated object does (an options class's
/// property, "MaxRunning"; a Core field, "kvLayers"), <see cref="Problem"/> says what is wrong and what was given
/// ("must be in (0, 1], got 1.5"). A front end puts its own name for the setting in front of the problem.
/// </summary>
public sealed record SettingError(string Property, string Problem)
{
    /// <summary>"Property: Problem", the plain form for an exception message or a log line.</summary>
    public override string ToString() => $"{Property}: {Problem}";

    /// <summary>Every error in its plain form, joined: <c>SettingError.Join(errors, "; ")</c>.</summary>
    public static string Join(IEnumerable<SettingError> errors, string separator) =>
        string.Join(separator, errors.Select(e => e.ToString()));
}
