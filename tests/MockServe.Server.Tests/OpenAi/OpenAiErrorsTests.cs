using Grpc.Core;

using MockServe.Server.OpenAi;

namespace MockServe.Server.Tests.OpenAi;

public class OpenAiErrorsTests
{
    [Theory]
    [InlineData(StatusCode.InvalidArgument, 400)]
    [InlineData(StatusCode.NotFound, 404)]
    [InlineData(StatusCode.FailedPrecondition, 409)]
    [InlineData(StatusCode.AlreadyExists, 409)]
    [InlineData(StatusCode.ResourceExhausted, 429)]
    [InlineData(StatusCode.Unavailable, 503)]
    [InlineData(StatusCode.Internal, 500)]
    [InlineData(StatusCode.Unknown, 500)]
    public void HttpStatus_GrpcStatus_OpenAiStatus(StatusCode code, int status) => Assert.Equal(status, OpenAiErrors.HttpStatus(code));

    [Theory]
    [InlineData("1", "1")]
    [InlineData("250", "1")]
    [InlineData("1000", "1")]
    [InlineData("1001", "2")]
    [InlineData("5000", "5")]
    public void RetryAfter_PushbackMilliseconds_WholeSecondsRoundedUp(string millis, string seconds)
    {
        var ex = new RpcException(new Status(StatusCode.ResourceExhausted, "full"), new Metadata { { "grpc-retry-pushback-ms", millis } });

        Assert.Equal(seconds, OpenAiErrors.RetryAfter(ex));
    }

    [Fact]
    public void RetryAfter_NoPushback_Null() => Assert.Null(OpenAiErrors.RetryAfter(new RpcException(new Status(StatusCode.Unavailable, "draining"))));

    [Fact]
    public void Body_PromptTextProblemOnChat_ParamIsMessages()
    {
        var body = OpenAiErrors.Body(new RpcException(new Status(StatusCode.InvalidArgument, "text: at most 10 characters, got 11")), "messages");

        Assert.Equal("messages", body.Error.Param);
        Assert.Equal("invalid_request_error", body.Error.Type);
        Assert.Equal("invalid_argument", body.Error.Code);
    }

    [Fact]
    public void Body_MessageWithoutField_ParamNull()
    {
        var body = OpenAiErrors.Body(new RpcException(new Status(StatusCode.Unavailable, "the server is shutting down: no new requests are accepted")), "prompt");

        Assert.Null(body.Error.Param);
        Assert.Equal("service_unavailable_error", body.Error.Type);
    }
}
