using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using Microsoft.Extensions.Time.Testing;

using MockServe.Server.Hosting;
using MockServe.Server.Security;

namespace MockServe.Server.Tests.Security;

public sealed class ServerTlsTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void CreateDevelopment_Certificate_ServesLoopbackNamesForAYearFromNow()
    {
        using var certificate = ServerTls.CreateDevelopment(Now, IPAddress.Loopback);

        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["localhost"], names.EnumerateDnsNames());
        Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], names.EnumerateIPAddresses());
        Assert.True(certificate.HasPrivateKey);
        // One minute of slack before now; 365 days after it.
        Assert.Equal(Now.AddMinutes(-1).UtcDateTime, certificate.NotBefore.ToUniversalTime());
        Assert.Equal(Now.AddDays(365).UtcDateTime, certificate.NotAfter.ToUniversalTime());
    }

    [Fact]
    public void CreateDevelopment_BoundToOneOtherAddress_NamesItToo()
    {
        using var certificate = ServerTls.CreateDevelopment(Now, IPAddress.Parse("192.0.2.7"));

        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains(IPAddress.Parse("192.0.2.7"), names.EnumerateIPAddresses());
    }

    [Fact]
    public void From_DevCertificateWithOut_WritesThePublicPartOnly()
    {
        string path = Path.Combine(_dir.Path, "dev.pem");

        var tls = ServerTls.From(new ServerOptions { TlsDevCertificate = true, TlsDevCertificateOut = path }, new FakeTimeProvider(Now));

        using var written = X509CertificateLoader.LoadCertificateFromFile(path);
        Assert.Equal(tls.Certificate!.Thumbprint, written.Thumbprint);
        Assert.False(written.HasPrivateKey);
        Assert.DoesNotContain("PRIVATE KEY", File.ReadAllText(path));
    }

    [Fact]
    public void From_NoTlsSettings_IsOff()
    {
        var tls = ServerTls.From(new ServerOptions(), TimeProvider.System);

        Assert.Equal((false, "http"), (tls.IsEnabled, tls.Scheme));
    }

    [Fact]
    public void Load_PemWithTheKeyInTheSameFile_HasThePrivateKey()
    {
        using var original = ServerTls.CreateDevelopment(Now, IPAddress.Loopback);
        using var key = original.GetECDsaPrivateKey()!;
        string path = _dir.Write("both.pem", original.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem());

        using var loaded = ServerTls.Load(path, "", "");

        Assert.Equal((original.Thumbprint, true), (loaded.Thumbprint, loaded.HasPrivateKey));
    }

    [Fact]
    public void Load_PfxWithPassword_HasThePrivateKey()
    {
        using var original = ServerTls.CreateDevelopment(Now, IPAddress.Loopback);
        string path = Path.Combine(_dir.Path, "server.pfx");
        File.WriteAllBytes(path, original.Export(X509ContentType.Pkcs12, "s3cret"));

        using var loaded = ServerTls.Load(path, "", "s3cret");

        Assert.Equal((original.Thumbprint, true), (loaded.Thumbprint, loaded.HasPrivateKey));
    }

    [Fact]
    public void Load_PemWithoutKey_FailsSayingSo()
    {
        using var original = ServerTls.CreateDevelopment(Now, IPAddress.Loopback);
        string path = _dir.Write("cert.pem", original.ExportCertificatePem());

        var ex = Assert.ThrowsAny<CryptographicException>(() => ServerTls.Load(path, "", ""));

        Assert.NotEmpty(ex.Message);
    }

    [Fact]
    public void Validate_DevCertificateAndCertificateFile_Conflict()
    {
        using var original = ServerTls.CreateDevelopment(Now, IPAddress.Loopback);
        string path = _dir.Write("cert.pem", original.ExportCertificatePem());

        var errors = ServerTls.Validate(new ServerOptions { TlsDevCertificate = true, TlsCertificate = path, TlsKey = path });

        Assert.Contains(errors, e => e.Property == nameof(ServerOptions.TlsDevCertificate) && e.Problem.Contains("--tls-cert", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_KeyOrOutWithoutTheirCertificate_NameWhatTheyNeed()
    {
        var errors = ServerTls.Validate(new ServerOptions { TlsKey = "key.pem", TlsDevCertificateOut = "dev.pem" });

        Assert.Equal(
            [
                (nameof(ServerOptions.TlsKey), "needs --tls-cert, the certificate the key belongs to"),
                (nameof(ServerOptions.TlsDevCertificateOut), "needs --tls-dev-cert, the certificate it writes"),
            ],
            errors.Select(e => (e.Property, e.Problem)));
    }
}
