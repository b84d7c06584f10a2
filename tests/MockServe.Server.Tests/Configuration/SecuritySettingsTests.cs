using MockServe.Server.Tests.Cli;

namespace MockServe.Server.Tests.Configuration;

/// <summary>The TLS and API key settings: checked at start like every other, and never echoing a key.</summary>
public sealed class SecuritySettingsTests
{
    [Theory]
    [InlineData("--api-keys-file")]
    [InlineData("--tls-cert")]
    public void Serve_FileMissing_FailsNamingTheSettingAndPath(string flag)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mockserve-no-such-{Guid.NewGuid():N}.txt");

        var run = CliRun.Of("serve", flag, path);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: {flag}: {path}: file not found{Environment.NewLine}", run.Error);
    }

    [Fact]
    public void Serve_DuplicateApiKey_FailsWithoutPrintingIt()
    {
        var run = CliRun.Of("serve", "--api-keys", "a:hunter2-hunter2", "b:hunter2-hunter2");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: --api-keys: item 2: the key appears twice (give each client its own){Environment.NewLine}", run.Error);
    }

    [Fact]
    public void Serve_UnknownOpenEndpoint_FailsListingTheKnownOnes()
    {
        var run = CliRun.Of("serve", "--open-endpoints", "health", "admin");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: --open-endpoints: unknown endpoint 'admin', expected health, reflection, metrics or none{Environment.NewLine}", run.Error);
    }

    [Fact]
    public void Serve_TlsCertificateFromVariableNotACertificate_FailsNamingTheVariableAndPath()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("junk.pem", "not a certificate");
        var sources = CliRun.NoSources with { Environment = new Dictionary<string, string> { ["MockServe__Server__TlsCertificate"] = path } };

        var run = CliRun.With(sources, "serve");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"error: MockServe__Server__TlsCertificate: {path}: ", run.Error);
    }
}
