using System.Globalization;
using System.Text.RegularExpressions;

using Grpc.Core;

using MockServe.Contracts.V1;

namespace MockServe.Server.Tests.Integration;

/// <summary>What a text prompt may cost the server: a character cap before counting, and a count that stops at the context.</summary>
[Collection(TestServer.Collection)]
public class TextPromptLimitTests
{
    [Theory]
    [InlineData(null, 2_000_000)]
    [InlineData("1000", 1000)]
    public async Task Generate_TextOverTheCharacterCap_InvalidArgumentNamingTextLengthAndLimit(string? setting, int cap)
    {
        await using var server = setting is null
            ? await TestServer.StartAsync()
            : await TestServer.StartAsync(("Server:MaxPromptCharacters", setting));

        var ex = await Assert.ThrowsAsync<RpcException>(() => server.GenerateAsync(new GenerateRequest { Text = new string('a', cap + 1), MaxTokens = 1 }));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal($"text: at most {cap} characters, got {cap + 1}", ex.Status.Detail);
    }

    [Fact]
    public async Task Generate_TextFarBeyondTheContext_RefusedWithALowerBoundCount()
    {
        await using var server = await TestServer.StartAsync();
        // 150,000 x "hello world " = 1.8M characters and 300,000 tokens (2 a repetition), under the 2M-character cap.
        string text = string.Concat(Enumerable.Repeat("hello world ", 150_000));

        var ex = await Assert.ThrowsAsync<RpcException>(() => server.GenerateAsync(new GenerateRequest { Text = text, MaxTokens = 1 }));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var match = Regex.Match(ex.Status.Detail, @"^text: at least (\d+) tokens, must be between 1 and the model's context of 200000 tokens$");
        Assert.True(match.Success, ex.Status.Detail);
        // Counting stops within the piece that passes 200,000: a piece is at most 256 characters, so at most
        // 21 repetitions and a part of one (256 = 21 x 12 + 4), 44 tokens.
        Assert.InRange(long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), 200_001, 200_044);
    }
}
