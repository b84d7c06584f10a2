using Grpc.Core;

using Microsoft.AspNetCore.Http;

namespace MockServe.Server.OpenAi;

/// <summary>
/// An HTTP request seen as a gRPC call, so that an OpenAI request runs through <c>InferenceGrpcService.Generate</c>
/// itself (its validation, failure injection, metrics, drain and routing) rather than a copy of it: the headers become
/// metadata (x-mockserve-fail works here too), the call ends when the client goes away, and there is no deadline.
/// </summary>
internal sealed class HttpCallContext : ServerCallContext
{
    // Where grpc-dotnet's GetHttpContext() looks when a context is not its own: ClientIdentity.Of reads the API key's client there.
    private const string HttpContextKey = "__HttpContext";

    private readonly HttpContext _http;
    private readonly string _method;
    private readonly Metadata _headers = [];

    public HttpCallContext(HttpContext http, string method)
    {
        _http = http;
        _method = method;
        foreach (var (name, values) in http.Request.Headers)
        {
            string key = name.ToLowerInvariant();
            // Pseudo-headers and binary or malformed keys are nothing Generate reads, and Metadata refuses some of them.
            if (key.StartsWith(':') || key.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.Ordinal) || !key.All(IsKeyChar))
            {
                continue;
            }

            foreach (string? value in values)
            {
                _headers.Add(key, value ?? "");
            }
        }

        UserState[HttpContextKey] = http;
    }

    protected override string MethodCore => _method;

    protected override string HostCore => _http.Request.Host.Value ?? "";

    protected override string PeerCore => $"{_http.Connection.RemoteIpAddress}:{_http.Connection.RemotePort}";

    protected override DateTime DeadlineCore => DateTime.MaxValue;

    protected override Metadata RequestHeadersCore => _headers;

    protected override CancellationToken CancellationTokenCore => _http.RequestAborted;

    protected override Metadata ResponseTrailersCore { get; } = [];

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore { get; } = new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("an HTTP request has no gRPC call to propagate");

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;

    private static bool IsKeyChar(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.';
}
