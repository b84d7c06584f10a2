using MockServe.Contracts.V1;

namespace MockServe.LoadTests.Tests;

/// <summary>
/// Tests that time a real server on the wall clock run alone: the fake-clock tests beside them keep both cores
/// busy, and a stream then reads its tokens up to a second late (seen once in 5 runs).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealServers
{
    public const string Name = "real servers";
}

internal static class ClientWarmup
{
    /// <summary>
    /// One small call first: the first call of a process compiles the client's HTTP/2 and gRPC code and opens the
    /// connection, which would be charged to the first measured token (0.75 s seen on 2 busy cores).
    /// </summary>
    public static async Task WarmAsync(InferenceService.InferenceServiceClient client)
    {
        using var call = client.Generate(new GenerateRequest { PromptTokens = 10, MaxTokens = 2 });
        while (await call.ResponseStream.MoveNext(default))
        {
        }
    }
}
