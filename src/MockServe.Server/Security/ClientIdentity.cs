using Grpc.Core;

namespace MockServe.Server.Security;

/// <summary>
/// The client a call comes from, as its API key names it. Request and session ids are the client's own: the
/// engine knows them as "&lt;client&gt;/&lt;id&gt;", so two clients may use the same id, and neither can abort,
/// close or collide with what the other runs. Without API keys there is no identity and ids are shared by all.
/// </summary>
internal sealed record ClientIdentity(string Name)
{
    /// <summary>The identity the API key check attached to the call, or null when keys are off.</summary>
    public static ClientIdentity? Of(ServerCallContext context) =>
        context.GetHttpContext().Features.Get<ClientIdentity>();
}

internal static class ClientScope
{
    /// <summary>The engine's id for <paramref name="id"/> from <paramref name="client"/>: the id itself when keys are off.</summary>
    public static string Scope(this ClientIdentity? client, string id) => client is null ? id : $"{client.Name}/{id}";

    /// <summary>
    /// <paramref name="message"/> from the engine with its ids put back as the client wrote them: the engine quotes
    /// an id ('id') or brackets it ((id)).
    /// </summary>
    public static string Unscope(this ClientIdentity? client, string message) => client is null
        ? message
        : message.Replace($"'{client.Name}/", "'", StringComparison.Ordinal).Replace($"({client.Name}/", "(", StringComparison.Ordinal);
}
