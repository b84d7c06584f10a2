using System.Globalization;
using System.Text.RegularExpressions;

using Grpc.Core;

using Microsoft.AspNetCore.Http;

namespace MockServe.Server.OpenAi;

/// <summary>A gRPC status as OpenAI's HTTP error: its status code, <c>Retry-After</c> and <c>{"error": {...}}</c> body.</summary>
internal static partial class OpenAiErrors
{
    /// <summary>The HTTP status of a gRPC status; 0 for CANCELLED, which only a client that has gone away causes here.</summary>
    public static int HttpStatus(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument or StatusCode.OutOfRange => StatusCodes.Status400BadRequest,
        StatusCode.NotFound => StatusCodes.Status404NotFound,
        // A session's turn while its previous turn runs, or a request id in flight: the client's conflict, not the server's fault.
        StatusCode.FailedPrecondition or StatusCode.AlreadyExists => StatusCodes.Status409Conflict,
        StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        StatusCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
        StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>The error object; <paramref name="textField"/> is what the request called its prompt (prompt or messages).</summary>
    public static ErrorResponse Body(RpcException ex, string textField)
    {
        string message = ex.Status.Detail;
        string? param = FieldOf(message) switch
        {
            null => null,
            "text" => textField,
            var field => field,
        };
        int status = HttpStatus(ex.StatusCode);
        string type = status switch
        {
            StatusCodes.Status429TooManyRequests => "rate_limit_error",
            StatusCodes.Status503ServiceUnavailable => "service_unavailable_error",
            >= 500 => "server_error",
            _ => "invalid_request_error",
        };
        string code = ex.StatusCode == StatusCode.NotFound && param == "model" ? "model_not_found" : Protocol.StatusNames.Of(ex.StatusCode).ToLowerInvariant();
        return new ErrorResponse(new ErrorBody(message, type, param, code));
    }

    /// <summary>Whole seconds a refused client should wait, rounded up from the gRPC retry pushback; null when there is none.</summary>
    public static string? RetryAfter(RpcException ex) =>
        ex.Trailers.GetValue("grpc-retry-pushback-ms") is { } ms && long.TryParse(ms, NumberStyles.None, CultureInfo.InvariantCulture, out long millis)
            ? ((millis + 999) / 1000).ToString(CultureInfo.InvariantCulture)
            : null;

    /// <summary>The field a message names in front ("max_tokens: must be ..."): every message of the Generate path does.</summary>
    internal static string? FieldOf(string message) => FieldPrefix().Match(message) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex("^([a-z_]+): ")]
    private static partial Regex FieldPrefix();
}
