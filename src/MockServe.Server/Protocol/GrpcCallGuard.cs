using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

using Grpc.AspNetCore.Server;
using Grpc.Core;

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace MockServe.Server.Protocol;

/// <summary>
/// Checks the framing of a gRPC request body before grpc-dotnet reads it, for calls that carry one request message
/// (unary and server streaming): one length-prefixed message, no bigger than the receive limit, nothing after it.
/// grpc-dotnet reports these as INTERNAL ("Incomplete message.") or, past Kestrel's body limit, as UNKNOWN; here
/// they end as INVALID_ARGUMENT naming what failed, or RESOURCE_EXHAUSTED naming the limit. Every malformed call,
/// and any call that still ends UNKNOWN or INTERNAL, gets one log line, at most <see cref="LinesPerSecond"/> a second.
/// </summary>
/// <remarks>
/// The body is examined, never consumed: grpc-dotnet reads the same bytes after it, as it would have buffered the
/// whole message anyway. See https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md for the framing.
/// </remarks>
internal sealed partial class GrpcCallGuard(RequestDelegate next, int maxMessageBytes, TimeProvider time, ILogger<GrpcCallGuard> logger)
{
    public const int LinesPerSecond = 10;

    /// <summary>Compressed flag and message length.</summary>
    public const int FrameHeaderBytes = 5;

    private readonly LogBudget _budget = new(time, LinesPerSecond);

    public async Task InvokeAsync(HttpContext context)
    {
        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method;
        if (method is null || method.Type is MethodType.ClientStreaming or MethodType.DuplexStreaming
            || context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
        {
            await next(context);
            return;
        }

        Refusal? refusal;
        try
        {
            refusal = await CheckBodyAsync(context);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away while sending: nobody is left to answer.
            return;
        }

        if (refusal is { } r)
        {
            Log(method.FullName, r.Code, r.Message);
            TrailersOnly.Answer(context, r.Code, r.Message);
            return;
        }

        await next(context);
        if (!context.RequestAborted.IsCancellationRequested && FinalStatus(context) is var (code, message)
            && ((code == StatusCode.InvalidArgument && message.StartsWith(ParseGuardBinder.Prefix, StringComparison.Ordinal))
                || code is StatusCode.Unknown or StatusCode.Internal))
        {
            Log(method.FullName, code, message);
        }
    }

    private async Task<Refusal?> CheckBodyAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            // This guard holds the body to one message header and the largest message itself, and says which bound
            // a body broke; Kestrel's limit (the same bound) would fail the read before the header could be seen.
            limit.MaxRequestBodySize = null;
        }

        var reader = context.Request.BodyReader;
        long declared = -1;
        var header = new byte[FrameHeaderBytes];
        while (true)
        {
            var read = await reader.ReadAsync(context.RequestAborted);
            var buffer = read.Buffer;
            try
            {
                if (declared < 0 && buffer.Length >= FrameHeaderBytes)
                {
                    buffer.Slice(0, FrameHeaderBytes).CopyTo(header);
                    if (CheckHeader(context, header, out declared) is { } bad)
                    {
                        return bad;
                    }
                }

                if (declared >= 0 && buffer.Length > FrameHeaderBytes + declared)
                {
                    return Invalid($"data after the {declared}-byte message; the call carries one message");
                }

                if (read.IsCompleted)
                {
                    return buffer.Length switch
                    {
                        0 => Invalid("empty; expected one length-prefixed message"),
                        < FrameHeaderBytes => Invalid($"ended after {buffer.Length} bytes, inside the 5-byte message header"),
                        _ when buffer.Length < FrameHeaderBytes + declared =>
                            Invalid($"ended after {buffer.Length - FrameHeaderBytes} of the {declared} bytes its message header declares"),
                        _ when buffer.FirstSpan[0] == 1 => CheckCompressed(buffer.Slice(FrameHeaderBytes), context.Request.Headers["grpc-encoding"].ToString()),
                        _ => null,
                    };
                }
            }
            finally
            {
                // Examined, not consumed: grpc-dotnet reads the body from its start.
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    private Refusal? CheckHeader(HttpContext context, ReadOnlySpan<byte> header, out long declared)
    {
        declared = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (header[0] > 1)
        {
            return Invalid($"message header flag is {header[0]}; must be 0 (plain) or 1 (compressed)");
        }

        if (header[0] == 1 && context.Request.Headers["grpc-encoding"].ToString() is "" or "identity")
        {
            return Invalid("the message is marked compressed but the call names no grpc-encoding");
        }

        return declared > maxMessageBytes
            ? new Refusal(StatusCode.ResourceExhausted, $"{ParseGuardBinder.Prefix}the message is {declared} bytes, over the limit of {maxMessageBytes} bytes (Server:MaxReceiveMessageBytes)")
            : null;
    }

    /// <summary>
    /// Decompresses the message into nothing, to see that it decompresses and to what size: grpc-dotnet reports a
    /// stream that does not decompress as UNKNOWN. Bounded by the limit: a small bomb stops at maxMessageBytes.
    /// </summary>
    private Refusal? CheckCompressed(ReadOnlySequence<byte> message, string encoding)
    {
        using var input = new MemoryStream(message.ToArray());
        using Stream? decompressed = encoding switch
        {
            "gzip" => new GZipStream(input, CompressionMode.Decompress),
            "deflate" => new ZLibStream(input, CompressionMode.Decompress),
            // Other encodings are grpc-dotnet's to refuse (UNIMPLEMENTED, with the encodings it accepts).
            _ => null,
        };
        if (decompressed is null)
        {
            return null;
        }

        var scratch = new byte[81920];
        long size = 0;
        try
        {
            int read;
            while ((read = decompressed.Read(scratch)) > 0)
            {
                size += read;
                if (size > maxMessageBytes)
                {
                    return new Refusal(StatusCode.ResourceExhausted,
                        $"{ParseGuardBinder.Prefix}the {encoding} message decompresses to more than the limit of {maxMessageBytes} bytes (Server:MaxReceiveMessageBytes)");
                }
            }
        }
        catch (InvalidDataException ex)
        {
            return Invalid($"the {encoding} message does not decompress: {ex.Message}");
        }

        return null;
    }

    private static Refusal Invalid(string problem) => new(StatusCode.InvalidArgument, ParseGuardBinder.Prefix + problem);

    private static (StatusCode Code, string Message)? FinalStatus(HttpContext context)
    {
        // A call that fails before its first message answers trailers-only: the status is in the headers.
        string status = context.Response.Headers["grpc-status"].ToString();
        string message = context.Response.Headers["grpc-message"].ToString();
        if (status.Length == 0 && context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers is { } trailers)
        {
            status = trailers["grpc-status"].ToString();
            message = trailers["grpc-message"].ToString();
        }

        return int.TryParse(status, NumberStyles.None, CultureInfo.InvariantCulture, out int code) && code != 0
            ? ((StatusCode)code, Uri.UnescapeDataString(message))
            : null;
    }

    private void Log(string method, StatusCode code, string message)
    {
        if (_budget.TryTake(out long suppressed))
        {
            LogMalformed(logger, method, code, message, suppressed);
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "call {Method} ended {Code}: {Detail} ({Suppressed} such lines left out before this one)")]
    private static partial void LogMalformed(ILogger logger, string method, StatusCode code, string detail, long suppressed);

    private readonly record struct Refusal(StatusCode Code, string Message);
}
