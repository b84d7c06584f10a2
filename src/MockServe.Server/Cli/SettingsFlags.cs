using System.CommandLine;
using System.Globalization;

using MockServe.Server.Configuration;

namespace MockServe.Server.Cli;

/// <summary>
/// The settings of some sections as command-line flags, made from <see cref="Settings"/>: a flag given on the
/// command line overrides its configuration key; a flag left out overrides nothing.
/// </summary>
internal static class SettingsFlags
{
    /// <summary>Adds a fresh option per setting (an option object belongs to one command); --help shows the defaults.</summary>
    public static void AddTo(Command command, IEnumerable<SettingsSection> sections)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var section in sections)
        {
            object defaults = section.CreateDefaults();
            foreach (var setting in section.Settings)
            {
                command.Options.Add(CreateOption(setting, $"{setting.Description} [default: {setting.DefaultText(defaults)}]"));
            }
        }
    }

    /// <summary>One configuration value, named by its flag, for each flag given on the command line.</summary>
    public static IReadOnlyList<ConfigurationEntry> Overrides(ParseResult parseResult, IEnumerable<SettingsSection> sections)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var options = parseResult.CommandResult.Command.Options;
        var overrides = new List<ConfigurationEntry>();
        foreach (var setting in sections.SelectMany(s => s.Settings))
        {
            var option = options.First(o => o.Name == setting.Flag);
            if (parseResult.GetResult(option) is not { Implicit: false })
            {
                continue;
            }

            switch (option)
            {
                case Option<bool> flag:
                    bool on = parseResult.GetValue(flag);
                    bool value = setting.Kind == SettingKind.InverseSwitch ? !on : on;
                    overrides.Add(new ConfigurationEntry(setting.Key, value.ToString(CultureInfo.InvariantCulture), setting.Flag));
                    break;
                case Option<string[]> list:
                    string[] items = parseResult.GetValue(list) ?? [];
                    overrides.AddRange(items.Select((item, i) => new ConfigurationEntry($"{setting.Key}:{i}", item, setting.Flag)));
                    break;
                case Option<string> text:
                    overrides.Add(new ConfigurationEntry(setting.Key, parseResult.GetValue(text), setting.Flag));
                    break;
            }
        }

        return overrides;
    }

    /// <summary>The validated settings of <paramref name="sections"/>: the sources, then the flags given.</summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">A setting is unusable.</exception>
    public static ValidatedSettings Load(ParseResult parseResult, SettingSources sources, IEnumerable<SettingsSection> sections)
    {
        var list = sections.ToList();
        return ValidatedSettings.Load(sources, Overrides(parseResult, list), list);
    }

    // Values stay text here: the binder converts them, the same for a flag, a variable or appsettings.json.
    private static Option CreateOption(Setting setting, string description) => setting.Kind switch
    {
        SettingKind.Switch or SettingKind.InverseSwitch => new Option<bool>(setting.Flag) { Description = description },
        SettingKind.List => new Option<string[]>(setting.Flag)
        {
            Description = description,
            HelpName = setting.HelpName,
            AllowMultipleArgumentsPerToken = true,
        },
        _ => new Option<string>(setting.Flag) { Description = description, HelpName = setting.HelpName },
    };
}
