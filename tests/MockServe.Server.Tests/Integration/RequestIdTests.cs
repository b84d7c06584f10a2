using System.Text.RegularExpressions;

using MockServe.Contracts.V1;

namespace MockServe.Server.Tests.Integration;

[Collection(TestServer.Collection)]
public partial class RequestIdTests
{
    [Fact]
    public async Task Generate_TwoRequestsWithoutIds_GetDifferentRandom128BitIds()
    {
        await using var server = await TestServer.StartAsync();

        var first = await server.GenerateAsync(new GenerateRequest { PromptTokens = 10, MaxTokens = 1, IgnoreEos = true });
        var second = await server.GenerateAsync(new GenerateRequest { PromptTokens = 10, MaxTokens = 1, IgnoreEos = true });

        // 128 bits are 32 hex digits; the sequential ids ms-1, ms-2 of before fail the pattern.
        Assert.Matches(ServerId(), first.RequestId);
        Assert.Matches(ServerId(), second.RequestId);
        Assert.NotEqual(first.RequestId, second.RequestId);
    }

    [Fact]
    public async Task Generate_RequestsWithoutIdsOnTwoServersWithOneSeed_GetTheSameText()
    {
        // The ids are random; the text of the n-th request without an id is still the seed's.
        string[] texts = new string[2];
        for (int i = 0; i < 2; i++)
        {
            await using var server = await TestServer.StartAsync(("Server:Seed", "7"));
            await server.GenerateAsync(new GenerateRequest { PromptTokens = 10, MaxTokens = 5, IgnoreEos = true });
            texts[i] = (await server.GenerateAsync(new GenerateRequest { PromptTokens = 10, MaxTokens = 20, IgnoreEos = true })).Text;
        }

        Assert.Equal(texts[0], texts[1]);
    }

    [GeneratedRegex("^ms-[0-9a-f]{32}$")]
    private static partial Regex ServerId();
}
