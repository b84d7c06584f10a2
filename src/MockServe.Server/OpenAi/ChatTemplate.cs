using System.Text;
using System.Text.Json;

using MockServe.Server.Services;

namespace MockServe.Server.OpenAi;

/// <summary>
/// The chat template: each message as <c>&lt;|role|&gt;\ncontent\n</c>, then <c>&lt;|assistant|&gt;\n</c> for the
/// reply. A plain format, documented in the README, counted with the server's tokenizer like any text prompt; a
/// conversation resent with the reply and a new message begins with the previous turn's prompt, as real templates do.
/// </summary>
internal static class ChatTemplate
{
    public static IReadOnlyList<string> Roles { get; } = ["system", "developer", "user", "assistant", "tool"];

    /// <exception cref="Grpc.Core.RpcException">INVALID_ARGUMENT naming the message that cannot be read.</exception>
    public static string Render(IReadOnlyList<ChatMessage>? messages)
    {
        if (messages is null || messages.Count == 0)
        {
            throw Errors.Invalid("messages: must hold at least one message");
        }

        var text = new StringBuilder();
        for (int i = 0; i < messages.Count; i++)
        {
            string role = messages[i].Role ?? "";
            if (!Roles.Contains(role))
            {
                throw Errors.Invalid($"messages: message {i} has role '{role}', expected one of {string.Join(", ", Roles)}");
            }

            text.Append("<|").Append(role).Append("|>\n").Append(Content(messages[i].Content, i)).Append('\n');
        }

        return text.Append("<|assistant|>\n").ToString();
    }

    /// <summary>A string, a list of parts (the text ones are joined), or nothing (an assistant turn that only called tools).</summary>
    private static string Content(JsonElement content, int index) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString()!,
        JsonValueKind.Undefined or JsonValueKind.Null => "",
        JsonValueKind.Array => string.Concat(content.EnumerateArray()
            .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            .Select(p => p.GetProperty("text").GetString())),
        _ => throw Errors.Invalid($"messages: message {index} has content of JSON type {content.ValueKind}, expected a string or a list of parts"),
    };
}
