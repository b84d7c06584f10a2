using System.Linq.Expressions;
using System.Reflection;

using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

using MockServe.Core.Profiles;

namespace MockServe.Server.Configuration;

/// <summary>One configuration section: its options class, its settings, and the Core check of the bound values.</summary>
public abstract class SettingsSection
{
    private protected SettingsSection(string name, Type optionsType)
    {
        Name = name;
        OptionsType = optionsType;
    }

    /// <summary>Configuration section: MockServe:Engine.</summary>
    public string Name { get; }

    public Type OptionsType { get; }

    public abstract IReadOnlyList<Setting> Settings { get; }

    /// <summary>A fresh options instance: the defaults.</summary>
    public object CreateDefaults() => Activator.CreateInstance(OptionsType)!;

    /// <summary>
    /// Registers the options class bound from <see cref="IConfiguration"/> with its validator and
    /// <c>ValidateOnStart</c>, so <see cref="IStartupValidator"/> reports it with every other section.
    /// </summary>
    public abstract void AddTo(IServiceCollection services);
}

/// <summary>The settings of options class <typeparamref name="T"/>, in the order --help lists them.</summary>
public sealed class SettingsSection<T> : SettingsSection
    where T : class, new()
{
    private readonly Func<T, IReadOnlyList<SettingError>> _validate;
    private readonly List<Setting> _settings = [];

    /// <param name="validate">Core's check of the options (their own Validate()), run after binding.</param>
    public SettingsSection(string name, Func<T, IReadOnlyList<SettingError>> validate)
        : base(name, typeof(T))
    {
        _validate = validate;
    }

    public override IReadOnlyList<Setting> Settings => _settings;

    /// <summary>Adds the setting held by <paramref name="property"/>.</summary>
    public SettingsSection<T> Add<TValue>(
        Expression<Func<T, TValue>> property, string flag, SettingKind kind, string helpName, string description, string? nullMeans = null)
    {
        ArgumentNullException.ThrowIfNull(property);
        var info = property.Body is MemberExpression { Member: PropertyInfo p }
            ? p
            : throw new ArgumentException($"{property} does not name a property of {typeof(T).Name}", nameof(property));
        _settings.Add(new Setting(Name, info, flag, kind, helpName, description, nullMeans));
        return this;
    }

    /// <summary>Sets every property whose value some source holds and converts; the rest keep their defaults.</summary>
    public void Bind(IConfiguration configuration, T options)
    {
        foreach (var setting in _settings)
        {
            if (SettingSources.Read(configuration, setting.Key) is { } raw && setting.TryConvert(raw, out object? value, out _))
            {
                setting.PropertyInfo.SetValue(options, value);
            }
        }
    }

    /// <summary>
    /// Every problem as "&lt;setting as the user wrote it&gt;: &lt;problem&gt;": values that do not convert, then
    /// Core's checks of the others. A setting is named by its flag when a flag set it, else by its environment
    /// variable, else by its configuration key.
    /// </summary>
    public IReadOnlyList<string> Validate(IConfiguration configuration, T options)
    {
        var lines = new List<string>();
        var unreadable = new HashSet<string>(StringComparer.Ordinal);
        foreach (var setting in _settings)
        {
            if (SettingSources.Read(configuration, setting.Key) is { } raw && !setting.TryConvert(raw, out _, out string problem))
            {
                lines.Add($"{raw.WrittenAs}: {problem}");
                unreadable.Add(setting.Property);
            }
        }

        // A value that did not convert kept its default; Core has nothing to say about it.
        foreach (var error in _validate(options).Where(e => !unreadable.Contains(e.Property)))
        {
            lines.Add($"{WrittenAs(configuration, error.Property)}: {error.Problem}");
        }

        return lines;
    }

    public override void AddTo(IServiceCollection services)
    {
        services.AddOptions<T>()
            .Configure<IConfiguration>((options, configuration) => Bind(configuration, options))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>, Validator>(
            provider => new Validator(this, provider.GetRequiredService<IConfiguration>())));
    }

    private string WrittenAs(IConfiguration configuration, string property)
    {
        string key = $"{Name}:{property}";
        return SettingSources.Read(configuration, key)?.WrittenAs ?? key;
    }

    private sealed class Validator(SettingsSection<T> section, IConfiguration configuration) : IValidateOptions<T>
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var lines = section.Validate(configuration, options);
            return lines.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(lines);
        }
    }
}
