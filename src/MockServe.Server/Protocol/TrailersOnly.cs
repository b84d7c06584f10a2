using System.Globalization;
using System.Text;

using Grpc.Core;

using Microsoft.AspNetCore.Http;

namespace MockServe.Server.Protocol;

/// <summary>
/// Ends a gRPC call before any service sees it: a trailers-only response, HTTP 200 with the status in the headers,
/// as gRPC clients expect (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
/// </summary>
internal static class TrailersOnly
{
    public static void Answer(HttpContext context, StatusCode code, string message)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)code).ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = PercentEncode(message);
    }

    /// <summary>grpc-message is percent-encoded: everything outside printable ASCII, and '%' itself.</summary>
    private static string PercentEncode(string message)
    {
        var text = new StringBuilder(message.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(message))
        {
            text.Append(b is >= 0x20 and <= 0x7E and not (byte)'%' ? (char)b : $"%{b:X2}");
        }

        return text.ToString();
    }
}
