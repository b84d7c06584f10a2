using Grpc.Core;

using MockServe.Contracts.V1;
using MockServe.Server.Services;
using MockServe.Server.Text;

namespace MockServe.Server.Tests.Services;

public class GenerateValidationTests
{
    private const long Context = 200_000;

    [Fact]
    public void Validate_TextOverTheCharacterCap_RefusedWithoutCounting()
    {
        var tokenizer = new RecordingTokenizer();

        var ex = Assert.Throws<RpcException>(() => Validate(new GenerateRequest { Text = new string('a', 11) }, tokenizer, maxPromptCharacters: 10));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("text: at most 10 characters, got 11", ex.Status.Detail);
        Assert.Equal(0, tokenizer.Calls);
    }

    [Fact]
    public void Validate_TextWithABadStopSequence_RefusedWithoutCounting()
    {
        var tokenizer = new RecordingTokenizer();

        var ex = Assert.Throws<RpcException>(() => Validate(new GenerateRequest { Text = "hello", Stop = { "" } }, tokenizer, maxPromptCharacters: 10));

        Assert.Contains("stop: each sequence must be", ex.Status.Detail);
        Assert.Equal(0, tokenizer.Calls);
    }

    [Fact]
    public void Validate_TextPrompt_CountedUpToTheContext()
    {
        var tokenizer = new RecordingTokenizer();

        var input = Validate(new GenerateRequest { Text = "hello" }, tokenizer, maxPromptCharacters: 10);

        Assert.Equal(new GenerateInput(PromptTokens: 7, MaxTokens: 256, TextPrompt: true, PromptIsLowerBound: true), input);
        Assert.Equal(Context, tokenizer.Limit);
    }

    [Fact]
    public void ToApiMessage_PromptCountThatIsALowerBound_SaysAtLeastAndNamesText()
    {
        var input = new GenerateInput(PromptTokens: 200_010, MaxTokens: 1, TextPrompt: true, PromptIsLowerBound: true);

        string message = GenerateValidation.ToApiMessage("prompt_tokens", "200010 tokens, must be between 1 and the model's context of 200000 tokens", input);

        Assert.Equal("text: at least 200010 tokens, must be between 1 and the model's context of 200000 tokens", message);
    }

    private static GenerateInput Validate(GenerateRequest request, IPromptTokenizer tokenizer, int maxPromptCharacters) =>
        GenerateValidation.Validate(request, tokenizer, defaultMaxTokens: 256, maxPromptCharacters, Context, CancellationToken.None);

    /// <summary>Records its calls and answers 7 tokens, a lower bound.</summary>
    private sealed class RecordingTokenizer : IPromptTokenizer
    {
        public string Name => "recording";

        public int Calls { get; private set; }

        public long Limit { get; private set; }

        public PromptCount Count(string text, long limit, CancellationToken cancellationToken)
        {
            Calls++;
            Limit = limit;
            return new PromptCount(7, IsLowerBound: true);
        }
    }
}
