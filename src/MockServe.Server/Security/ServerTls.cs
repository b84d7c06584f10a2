using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using Grpc.Net.Client;

using Microsoft.AspNetCore.Server.Kestrel.Core;

using MockServe.Core.Profiles;
using MockServe.Server.Hosting;

namespace MockServe.Server.Security;

/// <summary>
/// The certificate both ports serve, when TLS is on: one from <see cref="ServerOptions.TlsCertificate"/> (PEM or
/// PFX), or a development certificate made at start (<see cref="ServerOptions.TlsDevCertificate"/>). Without TLS
/// the gRPC port speaks h2c and the metrics port plain HTTP/1.1, as before.
/// </summary>
internal sealed class ServerTls
{
    /// <summary>How long a development certificate is valid: a new one is made at every start.</summary>
    public static readonly TimeSpan DevelopmentValidity = TimeSpan.FromDays(365);

    private ServerTls(X509Certificate2? certificate, string source)
    {
        Certificate = certificate;
        Source = source;
    }

    public X509Certificate2? Certificate { get; }

    public bool IsEnabled => Certificate is not null;

    /// <summary>Where the certificate came from, for the log: a path, or "a development certificate".</summary>
    public string Source { get; }

    public string Scheme => IsEnabled ? "https" : "http";

    /// <summary>The certificate the validated <paramref name="options"/> ask for, made or loaded now.</summary>
    /// <param name="time">The real clock: a certificate's validity is checked against real time by every client.</param>
    public static ServerTls From(ServerOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        if (options.TlsCertificate.Length > 0)
        {
            return new ServerTls(Load(options.TlsCertificate, options.TlsKey, options.TlsPassword), options.TlsCertificate);
        }

        if (!options.TlsDevCertificate)
        {
            return new ServerTls(null, "");
        }

        var certificate = CreateDevelopment(time.GetUtcNow(), IPAddress.Parse(options.BindAddress));
        if (options.TlsDevCertificateOut.Length > 0)
        {
            // The public certificate only, for clients to trust; the key never leaves the process.
            File.WriteAllText(options.TlsDevCertificateOut, certificate.ExportCertificatePem() + "\n");
        }

        return new ServerTls(certificate, "a development certificate");
    }

    /// <summary>The checks behind <see cref="ServerOptions.Validate"/>.</summary>
    public static IReadOnlyList<SettingError> Validate(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<SettingError>();
        if (options.TlsDevCertificate && options.TlsCertificate.Length > 0)
        {
            errors.Add(new SettingError(nameof(ServerOptions.TlsDevCertificate), "cannot be combined with --tls-cert: one certificate serves both ports"));
        }

        if (options.TlsKey.Length > 0 && options.TlsCertificate.Length == 0)
        {
            errors.Add(new SettingError(nameof(ServerOptions.TlsKey), "needs --tls-cert, the certificate the key belongs to"));
        }

        if (options.TlsPassword.Length > 0 && options.TlsCertificate.Length == 0)
        {
            errors.Add(new SettingError(nameof(ServerOptions.TlsPassword), "needs --tls-cert, the PFX file or encrypted key it opens"));
        }

        if (options.TlsDevCertificateOut.Length > 0)
        {
            string? directory = Path.GetDirectoryName(Path.GetFullPath(options.TlsDevCertificateOut));
            errors.AddRange(
                !options.TlsDevCertificate ? [new SettingError(nameof(ServerOptions.TlsDevCertificateOut), "needs --tls-dev-cert, the certificate it writes")]
                : directory is not null && !Directory.Exists(directory) ? [new SettingError(nameof(ServerOptions.TlsDevCertificateOut), $"{options.TlsDevCertificateOut}: directory {directory} not found")]
                : []);
        }

        if (options.TlsCertificate.Length == 0)
        {
            return errors;
        }

        bool found = true;
        foreach (var (property, path) in new[] { (nameof(ServerOptions.TlsCertificate), options.TlsCertificate), (nameof(ServerOptions.TlsKey), options.TlsKey) })
        {
            if (path.Length > 0 && !File.Exists(path))
            {
                errors.Add(new SettingError(property, $"{path}: file not found"));
                found = false;
            }
        }

        if (found)
        {
            try
            {
                Load(options.TlsCertificate, options.TlsKey, options.TlsPassword).Dispose();
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                errors.Add(new SettingError(nameof(ServerOptions.TlsCertificate), $"{options.TlsCertificate}: {ex.Message}"));
            }
        }

        return errors;
    }

    /// <summary>
    /// A certificate with its private key: PEM (the certificate chain, and the key unless <paramref name="keyPath"/>
    /// names its own file; an encrypted key takes <paramref name="password"/>) or PFX/PKCS#12 (told apart by content).
    /// </summary>
    /// <exception cref="CryptographicException">The files do not hold a usable certificate and key.</exception>
    public static X509Certificate2 Load(string certificatePath, string keyPath, string password)
    {
        bool pem = File.ReadAllText(certificatePath).Contains("-----BEGIN ", StringComparison.Ordinal);
        if (!pem && keyPath.Length > 0)
        {
            throw new CryptographicException("a PFX file holds its own key: --tls-key is only for a PEM certificate");
        }

        string? key = keyPath.Length > 0 ? keyPath : null;
        var certificate = !pem ? LoadPfx(certificatePath, password)
            : password.Length > 0 ? X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, key)
            : X509Certificate2.CreateFromPemFile(certificatePath, key);
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new CryptographicException("the certificate has no private key (put it in the file, or name its PEM file with --tls-key)");
        }

        return Persisted(certificate);
    }

    private static X509Certificate2 LoadPfx(string path, string password)
    {
        try
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, password.Length > 0 ? password : null);
        }
        catch (CryptographicException ex)
        {
            throw new CryptographicException($"neither a PEM certificate nor a PFX file that opens with the password given ({ex.Message})", ex);
        }
    }

    /// <summary>
    /// A self-signed certificate for localhost, 127.0.0.1 and ::1 (and <paramref name="bind"/> when it is one
    /// address of this machine), valid from <paramref name="now"/> for <see cref="DevelopmentValidity"/>.
    /// </summary>
    public static X509Certificate2 CreateDevelopment(DateTimeOffset now, IPAddress bind)
    {
        ArgumentNullException.ThrowIfNull(bind);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost, O=MockServe development certificate", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        if (!IPAddress.IsLoopback(bind) && !bind.Equals(IPAddress.Any) && !bind.Equals(IPAddress.IPv6Any))
        {
            names.AddIpAddress(bind);
        }

        request.CertificateExtensions.Add(names.Build(critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        // A minute back, so a client whose clock is a little behind still finds it valid.
        return Persisted(request.CreateSelfSigned(now.AddMinutes(-1), now + DevelopmentValidity));
    }

    /// <summary>TLS on <paramref name="listen"/> when it is on; <paramref name="protocols"/> either way (HTTP/2 by ALPN under TLS).</summary>
    public void Use(ListenOptions listen, HttpProtocols protocols)
    {
        ArgumentNullException.ThrowIfNull(listen);
        listen.Protocols = protocols;
        if (Certificate is { } certificate)
        {
            listen.UseHttps(certificate);
        }
    }

    /// <summary>
    /// A channel to this server's gRPC port on <paramref name="host"/>: h2c, or TLS that trusts exactly this server's
    /// certificate (whatever names it carries: the call goes to this process over loopback).
    /// </summary>
    public GrpcChannel CreateSelfChannel(string host, int port)
    {
        if (Certificate is not { } own)
        {
            return GrpcChannel.ForAddress($"http://{host}:{port}");
        }

        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(own.RawDataMemory.Span);
        return GrpcChannel.ForAddress($"https://{host}:{port}", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    // Windows' TLS cannot use a key that only lives in memory (as from PEM or CreateSelfSigned); a PKCS#12 round
    // trip gives it one it can. Elsewhere the certificate serves as it is.
    private static X509Certificate2 Persisted(X509Certificate2 certificate)
    {
        if (!OperatingSystem.IsWindows())
        {
            return certificate;
        }

        using (certificate)
        {
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        }
    }
}
