using System.Reflection;

using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Configuration;
using MockServe.Server.Hosting;

namespace MockServe.Server.Tests.Configuration;

public sealed class SettingsTableTests
{
    public static TheoryData<string> Sections => [.. Settings.All.Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(Sections))]
    public void Settings_Section_HasOneEntryPerOptionsProperty(string name)
    {
        var section = Settings.All.Single(s => s.Name == name);
        var properties = section.OptionsType
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite)
            .Select(p => p.Name)
            .Order();

        Assert.Equal(properties, section.Settings.Select(s => s.Property).Order());
    }

    [Fact]
    public void Settings_Sections_AreTheFourOptionsClasses()
    {
        Assert.Equal(
            [
                ("MockServe:Server", typeof(ServerOptions)),
                ("MockServe:Profile", typeof(ProfileOptions)),
                ("MockServe:Engine", typeof(EngineOptions)),
                ("MockServe:FailureInjection", typeof(FailureInjectionOptions)),
            ],
            Settings.All.Select(s => (s.Name, s.OptionsType)));
    }

    [Fact]
    public void Settings_FlagsAndKeys_AreUnique()
    {
        var all = Settings.All.SelectMany(s => s.Settings).ToList();

        Assert.Equal(all.Count, all.Select(s => s.Flag).Distinct().Count());
        Assert.Equal(all.Count, all.Select(s => s.Key).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(all, s => Assert.StartsWith("--", s.Flag));
    }

    [Fact]
    public void Settings_EveryKind_FitsItsPropertyType()
    {
        Assert.All(Settings.All.SelectMany(s => s.Settings), setting =>
        {
            var type = setting.PropertyInfo.PropertyType;
            var value = Nullable.GetUnderlyingType(type) ?? type;
            Type[] fits = setting.Kind switch
            {
                SettingKind.Whole or SettingKind.Tokens => [typeof(int), typeof(long)],
                SettingKind.Number or SettingKind.Duration => [typeof(double)],
                SettingKind.Text => [typeof(string)],
                SettingKind.Switch or SettingKind.InverseSwitch => [typeof(bool)],
                SettingKind.List => [typeof(List<string>)],
                _ => [],
            };
            Assert.True(fits.Contains(value), $"{setting.Key}: {setting.Kind} does not fit {type.Name}");
        });
    }

    [Fact]
    public void Settings_NullableProperty_SaysWhatNullMeans()
    {
        var nullable = Settings.All.SelectMany(s => s.Settings)
            .Where(s => Nullable.GetUnderlyingType(s.PropertyInfo.PropertyType) is not null);

        Assert.Equal(["--tp", "--kv-bits", "--weight-bits", "--prefill-util", "--decode-util"], nullable.Select(s => s.Flag));
        Assert.All(nullable, s => Assert.False(string.IsNullOrEmpty(s.NullMeans)));
    }
}
