using System.Net;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using MockServe.Server.Hosting;

namespace MockServe.Server.Security;

/// <summary>
/// Says at start how the server is protected: the certificate, the keys (counted, never shown), and a warning
/// when it binds beyond loopback without TLS or without keys.
/// </summary>
internal sealed partial class SecurityNotice(IOptions<ServerOptions> options, ServerTls tls, ApiKeyTable keys, ILogger<SecurityNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var server = options.Value;
        if (tls.Certificate is { } certificate)
        {
            LogTls(logger, tls.Source, certificate.Subject, certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256), certificate.NotAfter.ToUniversalTime());
            if (server.TlsDevCertificate && server.TlsDevCertificateOut.Length > 0)
            {
                LogDevCertificateWritten(logger, server.TlsDevCertificateOut);
            }
        }

        if (keys.IsEnabled)
        {
            LogKeys(logger, keys.Count, keys.Clients, server.OpenEndpoints.Count == 0 ? OpenEndpoints.None : string.Join(", ", server.OpenEndpoints));
        }

        var bind = IPAddress.Parse(server.BindAddress);
        string? missing = IPAddress.IsLoopback(bind) ? null
            : (tls.IsEnabled, keys.IsEnabled) switch
            {
                (false, false) => "TLS or API keys: anyone who reaches it can call, abort and read every request, and all travels in clear text",
                (false, true) => "TLS: API keys and all traffic travel in clear text (--tls-cert or --tls-dev-cert)",
                (true, false) => "API keys: anyone who reaches it can call it (--api-keys or --api-keys-file)",
                _ => null,
            };
        if (missing is not null)
        {
            LogExposed(logger, server.BindAddress, missing);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "bound to {Address}, beyond loopback, without {Missing}")]
    private static partial void LogExposed(ILogger logger, string address, string missing);

    [LoggerMessage(EventId = 31, Level = LogLevel.Information,
        Message = "TLS on both ports with {Source}: {Subject}, SHA-256 {Thumbprint}, valid until {NotAfter:u}")]
    private static partial void LogTls(ILogger logger, string source, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(EventId = 32, Level = LogLevel.Information, Message = "development certificate (public part) written to {Path} for clients to trust")]
    private static partial void LogDevCertificateWritten(ILogger logger, string path);

    [LoggerMessage(EventId = 33, Level = LogLevel.Information, Message = "API keys on: {Keys} keys of {Clients} clients; open without a key: {Open}")]
    private static partial void LogKeys(ILogger logger, int keys, int clients, string open);
}
