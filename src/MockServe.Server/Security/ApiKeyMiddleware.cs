using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

using MockServe.Core.Profiles;
using MockServe.Server.Hosting;
using MockServe.Server.Protocol;

namespace MockServe.Server.Security;

/// <summary>What a request asks for, as far as API keys are concerned.</summary>
internal enum KeyedEndpoint
{
    /// <summary>mockserve.v1.InferenceService, and anything not named below: always needs a key.</summary>
    Api,

    /// <summary>grpc.health.v1.Health, and GET /health on the HTTP port: probes (Kubernetes' among them) cannot send a key.</summary>
    Health,

    /// <summary>Server reflection, v1 and v1alpha.</summary>
    Reflection,

    /// <summary>GET /metrics on the metrics port or the HTTP port.</summary>
    Metrics,
}

/// <summary>The endpoints <see cref="ServerOptions.OpenEndpoints"/> may name.</summary>
internal static class OpenEndpoints
{
    public const string None = "none";

    public static IReadOnlyDictionary<string, KeyedEndpoint> Names { get; } = new Dictionary<string, KeyedEndpoint>(StringComparer.Ordinal)
    {
        ["health"] = KeyedEndpoint.Health,
        ["reflection"] = KeyedEndpoint.Reflection,
        ["metrics"] = KeyedEndpoint.Metrics,
    };

    public static IReadOnlyList<SettingError> Validate(ServerOptions options) =>
    [
        .. options.OpenEndpoints
            .Where(name => name != None && !Names.ContainsKey(name))
            .Select(name => new SettingError(nameof(ServerOptions.OpenEndpoints), $"unknown endpoint '{name}', expected {string.Join(", ", Names.Keys)} or {None}")),
    ];

    public static HashSet<KeyedEndpoint> From(ServerOptions options) =>
        [.. options.OpenEndpoints.Where(Names.ContainsKey).Select(name => Names[name])];
}

/// <summary>
/// With API keys on, every request outside the open endpoints must carry <c>authorization: Bearer &lt;key&gt;</c>.
/// A gRPC call without a valid key ends with UNAUTHENTICATED before any service sees it; a metrics scrape with
/// HTTP 401. On success the key's <see cref="ClientIdentity"/> is attached to the request for the services.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeyTable keys, IOptions<ServerOptions> options)
{
    private readonly int _metricsPort = options.Value.MetricsPort;
    private readonly int _httpPort = options.Value.HttpPort;
    private readonly HashSet<KeyedEndpoint> _open = OpenEndpoints.From(options.Value);

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = Classify(context);
        if (_open.Contains(endpoint))
        {
            return next(context);
        }

        var check = keys.Check(context.Request.Headers.Authorization);
        if (check.Client is { } client)
        {
            context.Features.Set(client);
            return next(context);
        }

        return RefuseAsync(context, check);
    }

    private KeyedEndpoint Classify(HttpContext context)
    {
        var path = context.Request.Path;
        // Exactly what the metrics branch serves: nothing else is ever taken for a scrape.
        int port = context.Connection.LocalPort;
        bool http = port == _httpPort && _httpPort != 0;
        return (port == _metricsPort || http) && path == "/metrics" ? KeyedEndpoint.Metrics
            : http && path == "/health" ? KeyedEndpoint.Health
            : path.StartsWithSegments("/grpc.health.v1.Health", StringComparison.Ordinal) ? KeyedEndpoint.Health
            : path.StartsWithSegments("/grpc.reflection.v1.ServerReflection", StringComparison.Ordinal)
                || path.StartsWithSegments("/grpc.reflection.v1alpha.ServerReflection", StringComparison.Ordinal) ? KeyedEndpoint.Reflection
            : KeyedEndpoint.Api;
    }

    private Task RefuseAsync(HttpContext context, ApiKeyCheck check)
    {
        var response = context.Response;
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
        {
            TrailersOnly.Answer(context, Grpc.Core.StatusCode.Unauthenticated, check.Problem ?? "");
            return Task.CompletedTask;
        }

        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.Headers.WWWAuthenticate = check == ApiKeyCheck.Invalid ? "Bearer error=\"invalid_token\"" : "Bearer";
        if (context.Connection.LocalPort == _httpPort && _httpPort != 0)
        {
            // OpenAI clients read the reason from OpenAI's error object.
            var error = new OpenAi.ErrorResponse(new OpenAi.ErrorBody(check.Problem ?? "", "invalid_request_error", null, "invalid_api_key"));
            return OpenAi.OpenAiResponder.WriteErrorAsync(context, StatusCodes.Status401Unauthorized, error, null, context.RequestAborted);
        }

        return response.WriteAsync(check.Problem + "\n");
    }
}
