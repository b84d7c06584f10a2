using Google.Protobuf.WellKnownTypes;
using Google.Rpc;

using Grpc.Core;

using MockServe.Core.Engine;

using Status = Grpc.Core.Status;

namespace MockServe.Server.Services;

/// <summary>The error model: engine refusals and bad input as standard gRPC statuses naming field, value and limit.</summary>
internal static class Errors
{
    public static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));

    public static RpcException NotFound(string message) => new(new Status(StatusCode.NotFound, message));

    public static RpcException Unavailable(string message) => new(new Status(StatusCode.Unavailable, message));

    /// <summary>RESOURCE_EXHAUSTED with google.rpc.RetryInfo and the grpc-retry-pushback-ms trailer honoured by gRPC retries.</summary>
    public static RpcException Exhausted(string message, TimeSpan retryAfter)
    {
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.ResourceExhausted,
            Message = message,
            Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }) },
        };
        var ex = status.ToRpcException();
        ex.Trailers.Add("grpc-retry-pushback-ms", ((long)Math.Ceiling(retryAfter.TotalMilliseconds)).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return ex;
    }

    public static RpcException FromRefusal(RejectReason reason, string message, TimeSpan retryAfter) => reason switch
    {
        RejectReason.QueueFull or RejectReason.SessionLimit => Exhausted(message, retryAfter),
        RejectReason.SessionBusy => new RpcException(new Status(StatusCode.FailedPrecondition, message)),
        RejectReason.DuplicateRequest => new RpcException(new Status(StatusCode.AlreadyExists, message)),
        RejectReason.Stopped => Unavailable(message),
        _ => Invalid(message),
    };
}
