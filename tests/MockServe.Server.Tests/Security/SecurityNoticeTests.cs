using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using MockServe.Server.Hosting;
using MockServe.Server.Security;

namespace MockServe.Server.Tests.Security;

public sealed class SecurityNoticeTests
{
    [Fact]
    public async Task StartAsync_WildcardBindWithoutTlsOrKeys_WarnsOfBoth()
    {
        var logger = await StartAsync(new ServerOptions { BindAddress = "0.0.0.0" });

        var warning = Assert.Single(logger.Lines, l => l.Level == LogLevel.Warning);
        Assert.Equal(
            "bound to 0.0.0.0, beyond loopback, without TLS or API keys: anyone who reaches it can call, abort and read every request, and all travels in clear text",
            warning.Message);
    }

    [Fact]
    public async Task StartAsync_OtherAddressWithKeysButNoTls_WarnsOfClearText()
    {
        var logger = await StartAsync(new ServerOptions { BindAddress = "::", ApiKeys = ["a:secret-a"] });

        var warning = Assert.Single(logger.Lines, l => l.Level == LogLevel.Warning);
        Assert.StartsWith("bound to ::, beyond loopback, without TLS: API keys", warning.Message);
        Assert.DoesNotContain(logger.Lines, l => l.Message.Contains("secret-a", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_WildcardBindWithTlsAndKeys_DoesNotWarn()
    {
        var logger = await StartAsync(new ServerOptions { BindAddress = "0.0.0.0", ApiKeys = ["a:secret-a"], TlsDevCertificate = true });

        Assert.DoesNotContain(logger.Lines, l => l.Level == LogLevel.Warning);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task StartAsync_LoopbackWithoutTlsOrKeys_DoesNotWarn(string bind)
    {
        var logger = await StartAsync(new ServerOptions { BindAddress = bind });

        Assert.Empty(logger.Lines);
    }

    private static async Task<ListLogger> StartAsync(ServerOptions options)
    {
        var logger = new ListLogger();
        var notice = new SecurityNotice(Options.Create(options), ServerTls.From(options, TimeProvider.System), ApiKeyTable.From(options), logger);
        await notice.StartAsync(CancellationToken.None);
        return logger;
    }

    private sealed class ListLogger : ILogger<SecurityNotice>
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception)));
    }
}
