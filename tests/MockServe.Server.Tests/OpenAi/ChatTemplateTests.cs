using System.Text.Json;

using Grpc.Core;

using MockServe.Server.OpenAi;

namespace MockServe.Server.Tests.OpenAi;

public class ChatTemplateTests
{
    private static List<ChatMessage> Messages(string json) => JsonSerializer.Deserialize<List<ChatMessage>>(json, OpenAiJson.Options)!;

    [Fact]
    public void Render_SystemAndUser_RoleTagsThenTheAssistantTag()
    {
        string text = ChatTemplate.Render(Messages("""[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]"""));

        Assert.Equal("<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\n", text);
    }

    [Fact]
    public void Render_ContentParts_TextPartsJoinedOthersLeftOut()
    {
        string text = ChatTemplate.Render(Messages(
            """[{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "x"}}, {"type": "text", "text": "b"}]}]"""));

        Assert.Equal("<|user|>\nab\n<|assistant|>\n", text);
    }

    [Fact]
    public void Render_NextTurn_BeginsWithThePreviousTurnsPrompt()
    {
        string first = ChatTemplate.Render(Messages("""[{"role": "user", "content": "Hi"}]"""));
        string second = ChatTemplate.Render(Messages("""[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}, {"role": "user", "content": "More"}]"""));

        Assert.StartsWith(first, second, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_UnknownRole_InvalidArgumentNamingMessagesAndTheRole()
    {
        var ex = Assert.Throws<RpcException>(() => ChatTemplate.Render(Messages("""[{"role": "wizard", "content": "x"}]""")));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("messages: message 0 has role 'wizard', expected one of system, developer, user, assistant, tool", ex.Status.Detail);
    }

    [Fact]
    public void Render_NoMessages_InvalidArgument()
    {
        var ex = Assert.Throws<RpcException>(() => ChatTemplate.Render([]));

        Assert.Equal("messages: must hold at least one message", ex.Status.Detail);
    }
}
