using System.Collections;
using System.Globalization;
using System.Reflection;

namespace MockServe.Server.Configuration;

/// <summary>How a setting's value is written, the same in a flag, an environment variable and appsettings.json.</summary>
public enum SettingKind
{
    /// <summary>A whole number: 50051.</summary>
    Whole,

    /// <summary>A number: 0.5, 1e-3.</summary>
    Number,

    /// <summary>A token count, plain or with a k/M suffix: 2048, 50k, 1.5M.</summary>
    Tokens,

    /// <summary>Seconds, plain or with a ms/s/m/h/d suffix: 30, 250ms, 10m.</summary>
    Duration,

    /// <summary>Text as written.</summary>
    Text,

    /// <summary>true or false; the flag takes no value and sets true.</summary>
    Switch,

    /// <summary>true or false; the flag takes no value and sets false (<c>--no-swap</c> sets SwapEnabled false).</summary>
    InverseSwitch,

    /// <summary>Words; the flag takes several, a key or variable lists them with commas or as an array.</summary>
    List,
}

/// <summary>
/// One setting: a property of an options class, its configuration key (<see cref="Key"/>), its flag, and how its
/// value is written. <see cref="Settings"/> lists them all; nothing else names a setting.
/// </summary>
public sealed class Setting
{
    internal Setting(string section, PropertyInfo property, string flag, SettingKind kind, string helpName, string description, string? nullMeans)
    {
        Section = section;
        PropertyInfo = property;
        Flag = flag;
        Kind = kind;
        HelpName = helpName;
        Description = description;
        NullMeans = nullMeans;
    }

    /// <summary>Configuration section: MockServe:Engine.</summary>
    public string Section { get; }

    /// <summary>The options class's property: MaxRunning.</summary>
    public string Property => PropertyInfo.Name;

    /// <summary>Configuration key: MockServe:Engine:MaxRunning (environment variable MockServe__Engine__MaxRunning).</summary>
    public string Key => $"{Section}:{Property}";

    /// <summary>Command-line flag: --max-running.</summary>
    public string Flag { get; }

    public SettingKind Kind { get; }

    /// <summary>What the flag's value is called in --help: N, F, DURATION.</summary>
    public string HelpName { get; }

    public string Description { get; }

    /// <summary>What an unset (null) value means, for --help: "the GPU profile's gpuCount".</summary>
    public string? NullMeans { get; }

    internal PropertyInfo PropertyInfo { get; }

    private Type ValueType => Nullable.GetUnderlyingType(PropertyInfo.PropertyType) ?? PropertyInfo.PropertyType;

    private bool IsNullable => Nullable.GetUnderlyingType(PropertyInfo.PropertyType) is not null;

    /// <summary>The default as --help shows it, read from <paramref name="defaults"/>, a fresh options instance.</summary>
    public string DefaultText(object defaults)
    {
        object? value = PropertyInfo.GetValue(defaults);
        return (Kind, value) switch
        {
            (_, null) => NullMeans ?? "none",
            (SettingKind.Duration, double seconds) => SettingText.FormatDuration(seconds),
            (SettingKind.Switch, bool on) => on ? "on" : "off",
            (SettingKind.InverseSwitch, bool on) => on ? "off" : "on",
            (SettingKind.List, IEnumerable items) when items.Cast<object>().Any() => string.Join(' ', items.Cast<object>()),
            (SettingKind.List, _) or (_, "") => "none",
            (_, IFormattable formattable) => formattable.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
    }

    /// <summary>Converts what a source holds for this setting to the property's type.</summary>
    /// <param name="problem">What is wrong with the text ("expected a whole number, got 'abc'") when this returns false.</param>
    internal bool TryConvert(RawSetting raw, out object? value, out string problem)
    {
        value = null;
        problem = "";
        if (Kind == SettingKind.List)
        {
            var items = raw.Items ?? raw.Text!.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            value = items.ToList();
            return true;
        }

        if (raw.Text is null)
        {
            problem = "expected one value, got a list";
            return false;
        }

        string text = raw.Text.Trim();
        if (IsNullable && text.Length == 0)
        {
            return true;
        }

        (bool ok, value, string expected) = Kind switch
        {
            SettingKind.Whole => Whole(long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long whole), whole, "a whole number"),
            SettingKind.Tokens => Whole(SettingText.TryParseTokenCount(text, out long tokens), tokens, "a whole number of tokens such as 50000 or 50k"),
            SettingKind.Number => (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number), number, "a number"),
            SettingKind.Duration => (SettingText.TryParseDuration(text, out double seconds), seconds, "a duration such as 250ms, 5s, 2m or 1h"),
            SettingKind.Switch or SettingKind.InverseSwitch => (bool.TryParse(text, out bool on), on, "true or false"),
            _ => (true, (object?)text, ""),
        };
        if (!ok)
        {
            value = null;
            problem = $"expected {expected}, got '{text}'";
        }

        return ok;
    }

    private (bool Ok, object? Value, string Expected) Whole(bool parsed, long value, string expected)
    {
        if (!parsed)
        {
            return (false, null, expected);
        }

        if (ValueType != typeof(int))
        {
            return (true, value, expected);
        }

        return value is >= int.MinValue and <= int.MaxValue
            ? (true, (int)value, expected)
            : (false, null, $"{expected} from {int.MinValue} to {int.MaxValue}");
    }
}
