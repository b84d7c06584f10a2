using Microsoft.Extensions.Options;

namespace MockServe.Server.Configuration;

/// <summary>
/// The settings of a command that runs no host (estimate, simulate): the same configuration pipeline, binding
/// and validators as <c>serve</c>, on a service provider of its own.
/// </summary>
public sealed class ValidatedSettings : IDisposable
{
    private readonly ServiceProvider _services;

    private ValidatedSettings(ServiceProvider services) => _services = services;

    /// <summary>Binds and validates <paramref name="sections"/>; every problem of every section at once.</summary>
    /// <exception cref="OptionsValidationException">A setting is unusable (an <see cref="AggregateException"/> of them when several sections are).</exception>
    public static ValidatedSettings Load(SettingSources sources, IEnumerable<ConfigurationEntry> overrides, IEnumerable<SettingsSection> sections)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var configuration = sources.AddTo(new ConfigurationBuilder(), overrides).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        Settings.AddTo(services, sections);
        var provider = services.BuildServiceProvider();
        try
        {
            // What a host does when it starts: the validator that ValidateOnStart filled checks every section.
            provider.GetRequiredService<IStartupValidator>().Validate();
        }
        catch
        {
            provider.Dispose();
            throw;
        }

        return new ValidatedSettings(provider);
    }

    public T Get<T>()
        where T : class => _services.GetRequiredService<IOptions<T>>().Value;

    public void Dispose() => _services.Dispose();
}

/// <summary>The lines of a settings failure, as a command prints them.</summary>
public static class SettingsFailure
{
    /// <summary>
    /// The "&lt;setting&gt;: &lt;problem&gt;" lines of an <see cref="OptionsValidationException"/>, or of an
    /// <see cref="AggregateException"/> of them (the startup validator's way to report several sections), or the
    /// line of a <see cref="SettingsFileException"/>.
    /// </summary>
    public static bool TryGetLines(Exception exception, out IReadOnlyList<string> lines)
    {
        lines = exception switch
        {
            SettingsFileException file => [file.Message],
            OptionsValidationException single => [.. single.Failures],
            AggregateException { InnerExceptions: var inner } when inner.Count > 0 && inner.All(e => e is OptionsValidationException) =>
                [.. inner.Cast<OptionsValidationException>().SelectMany(e => e.Failures)],
            _ => [],
        };
        return lines.Count > 0;
    }
}
