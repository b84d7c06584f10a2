using Google.Protobuf;

using Grpc.Core;

namespace MockServe.Server.Protocol;

/// <summary>
/// Binds a generated service with request deserializers that turn a body that does not parse into INVALID_ARGUMENT
/// naming what failed. grpc-dotnet parses the request before any interceptor runs and reports a parser's exception
/// as UNKNOWN ("Exception was thrown by handler.") with its stack trace in the log, once per bad call.
/// </summary>
/// <remarks>Use from a service's own <c>[BindServiceMethod]</c>: <c>Generated.BindService(new ParseGuardBinder(binder), service)</c>.</remarks>
internal sealed class ParseGuardBinder(ServiceBinderBase inner) : ServiceBinderBase
{
    /// <summary>How every such message begins: the call guard logs the calls that end with it.</summary>
    public const string Prefix = "request body: ";

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Guard(method), handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Guard(method), handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Guard(method), handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Guard(method), handler);

    private static Method<TRequest, TResponse> Guard<TRequest, TResponse>(Method<TRequest, TResponse> method)
    {
        var deserialize = method.RequestMarshaller.ContextualDeserializer;
        string type = typeof(TRequest).Name;
        var marshaller = Marshallers.Create(method.RequestMarshaller.ContextualSerializer, context =>
        {
            try
            {
                return deserialize(context);
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"{Prefix}not a valid {type} ({context.PayloadLength} bytes): {ex.Message}"));
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, marshaller, method.ResponseMarshaller);
    }
}
