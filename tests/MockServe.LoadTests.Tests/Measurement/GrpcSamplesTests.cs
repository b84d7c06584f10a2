using Google.Protobuf.WellKnownTypes;

using Grpc.Core;

using MockServe.Contracts.V1;
using MockServe.LoadTests.Measurement;

namespace MockServe.LoadTests.Tests.Measurement;

public sealed class GrpcSamplesTests
{
    private static readonly RequestSample Blank = new() { Scenario = "chat" };

    [Fact]
    public void WithComplete_HostTurn_TakesUsageCacheStateAndTiming()
    {
        var complete = new GenerateComplete
        {
            FinishReason = FinishReason.Length,
            Usage = new Usage { PromptTokens = 50_100, CachedTokens = 50_000, CompletionTokens = 200, RecomputedTokens = 0 },
            Timing = new Timing
            {
                Queue = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(30)),
                SwapIn = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(400)),
                Prefill = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(70)),
                Decode = Duration.FromTimeSpan(TimeSpan.FromSeconds(6)),
                TimeToFirstToken = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(500)),
                EndToEnd = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(6_500)),
                Preemptions = 1,
                CacheState = CacheState.Host,
            },
        };

        var sample = Blank.WithComplete(complete);

        Assert.Equal(200, sample.OutputTokens);
        Assert.Equal(50_100, sample.PromptTokens);
        Assert.Equal(50_000, sample.CachedTokens);
        Assert.Equal(TurnCacheState.Host, sample.CacheState);
        Assert.Equal(
            new ServerTiming(
                TimeSpan.FromMilliseconds(30),
                TimeSpan.FromMilliseconds(400),
                TimeSpan.FromMilliseconds(70),
                TimeSpan.FromSeconds(6),
                TimeSpan.FromMilliseconds(500),
                TimeSpan.FromMilliseconds(6_500),
                1),
            sample.Server);
        Assert.Equal(TimeSpan.FromMilliseconds(400), sample.ValueOf(Metric.ServerSwapIn));
    }

    [Fact]
    public void WithComplete_NoTiming_LeavesCacheStateUnknown()
    {
        var sample = Blank.WithComplete(new GenerateComplete { Usage = new Usage { CompletionTokens = 3 } });

        Assert.Equal(3, sample.OutputTokens);
        Assert.Equal(TurnCacheState.Unknown, sample.CacheState);
        Assert.Null(sample.Server);
    }

    [Theory]
    [InlineData(CacheState.Unspecified, TurnCacheState.Unknown)]
    [InlineData(CacheState.New, TurnCacheState.New)]
    [InlineData(CacheState.Hot, TurnCacheState.Hot)]
    [InlineData(CacheState.Host, TurnCacheState.Host)]
    [InlineData(CacheState.Miss, TurnCacheState.Miss)]
    public void FromProto_EachCacheState_Maps(CacheState proto, TurnCacheState expected)
    {
        Assert.Equal(expected, TurnCacheStates.FromProto(proto));
    }

    [Fact]
    public void WithStatus_ResourceExhausted_FailsWithTheProtoName()
    {
        var sample = Blank.WithStatus(StatusCode.ResourceExhausted);

        Assert.False(sample.Ok);
        Assert.Equal("RESOURCE_EXHAUSTED", sample.Status);
    }

    [Theory]
    [InlineData(StatusCode.OK, "OK")]
    [InlineData(StatusCode.Unavailable, "UNAVAILABLE")]
    [InlineData(StatusCode.DeadlineExceeded, "DEADLINE_EXCEEDED")]
    [InlineData(StatusCode.InvalidArgument, "INVALID_ARGUMENT")]
    public void StatusName_Code_ProtoSpelling(StatusCode code, string expected)
    {
        Assert.Equal(expected, GrpcSamples.StatusName(code));
    }

    [Fact]
    public void WithStatus_Ok_Succeeds()
    {
        var sample = Blank with { Ok = false, Status = "Unavailable" };

        var ok = sample.WithStatus(StatusCode.OK);

        Assert.True(ok.Ok);
        Assert.Equal("OK", ok.Status);
    }
}
