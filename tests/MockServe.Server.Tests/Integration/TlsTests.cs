using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

using Grpc.Core;
using Grpc.Net.Client;

using MockServe.Contracts.V1;
using MockServe.Server.Security;

namespace MockServe.Server.Tests.Integration;

/// <summary>TLS on both ports; the test's clients trust the server's certificate itself, never "any certificate".</summary>
[Collection(TestServer.Collection)]
public sealed class TlsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Generate_DevCertificateTrustedFromItsPublicFile_RoundTrips()
    {
        string publicFile = Path.Combine(_dir.Path, "dev.pem");
        await using var server = await TestServer.StartAsync(("Server:TlsDevCertificate", "true"), ("Server:TlsDevCertificateOut", publicFile));

        var run = await server.GenerateAsync(new GenerateRequest { PromptTokens = 100, MaxTokens = 3, IgnoreEos = true });

        Assert.Equal(3, run.Tokens);
        Assert.DoesNotContain("PRIVATE KEY", await File.ReadAllTextAsync(publicFile));
    }

    [Fact]
    public async Task OpenAiModels_TlsOn_HttpsAndHttp2ByAlpn()
    {
        string publicFile = Path.Combine(_dir.Path, "dev.pem");
        await using var server = await TestServer.StartAsync(("Server:TlsDevCertificate", "true"), ("Server:TlsDevCertificateOut", publicFile));
        using var http = new HttpClient(server.CreateHandler())
        {
            DefaultRequestVersion = System.Net.HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await http.GetAsync(new Uri(server.OpenAiUri, "models"));

        Assert.Equal("https", server.OpenAiUri.Scheme);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(System.Net.HttpVersion.Version20, response.Version);
    }

    [Fact]
    public async Task Generate_PemCertificateAndKeyFiles_RoundTrips()
    {
        var (cert, key) = WritePem(ServerTls.CreateDevelopment(DateTimeOffset.UtcNow, IPAddress.Loopback));
        await using var server = await TestServer.StartAsync(("Server:TlsCertificate", cert), ("Server:TlsKey", key));

        var run = await server.GenerateAsync(new GenerateRequest { PromptTokens = 100, MaxTokens = 3, IgnoreEos = true });

        Assert.Equal(3, run.Tokens);
    }

    [Fact]
    public async Task GetServerInfo_ClientThatDoesNotTrustTheCertificate_FailsTheHandshake()
    {
        string publicFile = Path.Combine(_dir.Path, "dev.pem");
        await using var server = await TestServer.StartAsync(("Server:TlsDevCertificate", "true"), ("Server:TlsDevCertificateOut", publicFile));
        using var channel = GrpcChannel.ForAddress($"https://127.0.0.1:{server.Port}");

        var ex = await Assert.ThrowsAsync<RpcException>(() => new InferenceService.InferenceServiceClient(channel).GetServerInfoAsync(new GetServerInfoRequest()).ResponseAsync);

        // The default trust store does not hold the self-signed certificate: the TLS handshake fails.
        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.IsType<AuthenticationException>(ex.Status.DebugException?.InnerException);
    }

    [Fact]
    public async Task Metrics_OverTls_Scrapes()
    {
        string publicFile = Path.Combine(_dir.Path, "dev.pem");
        await using var server = await TestServer.StartAsync(("Server:TlsDevCertificate", "true"), ("Server:TlsDevCertificateOut", publicFile));

        string text = await server.ScrapeAsync();

        Assert.StartsWith("https://", server.MetricsUri.ToString(), StringComparison.Ordinal);
        Assert.Contains("mockserve_requests_total", text);
    }

    [Fact]
    public async Task Start_TlsAndApiKeys_WarmUpPassesBoth()
    {
        string publicFile = Path.Combine(_dir.Path, "dev.pem");
        await using var server = await TestServer.StartWithKeyAsync(
            "k-0123456789abcdef", ("Server:TlsDevCertificate", "true"), ("Server:TlsDevCertificateOut", publicFile), ("Server:ApiKeys", "k-0123456789abcdef"));

        var info = await server.Client.GetServerInfoAsync(new GetServerInfoRequest());

        Assert.True(server.Host.IsWarm);
        Assert.Equal("yi-34b", info.Model.Id);
    }

    private (string Cert, string Key) WritePem(X509Certificate2 certificate)
    {
        using (certificate)
        {
            using var key = certificate.GetECDsaPrivateKey()!;
            return (_dir.Write("server.pem", certificate.ExportCertificatePem()), _dir.Write("server.key", key.ExportPkcs8PrivateKeyPem()));
        }
    }
}
