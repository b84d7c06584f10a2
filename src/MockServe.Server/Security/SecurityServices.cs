using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

using MockServe.Server.Hosting;

namespace MockServe.Server.Security;

/// <summary>TLS and API keys from the validated <see cref="ServerOptions"/>.</summary>
internal static class SecurityServices
{
    public static IServiceCollection AddTo(IServiceCollection services) => services
        .AddSingleton(sp => ApiKeyTable.From(sp.GetRequiredService<IOptions<ServerOptions>>().Value))
        // The real clock, whatever drives model time: clients check the certificate against theirs.
        .AddSingleton(sp => ServerTls.From(sp.GetRequiredService<IOptions<ServerOptions>>().Value, TimeProvider.System))
        .AddHostedService<SecurityNotice>();

    /// <summary>The key check, first in the pipeline, when keys are configured; nothing at all otherwise.</summary>
    public static void Use(WebApplication app)
    {
        if (app.Services.GetRequiredService<ApiKeyTable>().IsEnabled)
        {
            app.UseMiddleware<ApiKeyMiddleware>();
        }
    }
}
