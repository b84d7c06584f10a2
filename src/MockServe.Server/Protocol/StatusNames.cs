using Grpc.Core;

namespace MockServe.Server.Protocol;

/// <summary>Status codes as the gRPC protocol spells them, for messages, reports and metrics.</summary>
public static class StatusNames
{
    /// <summary>The proto name of a status code: ResourceExhausted is RESOURCE_EXHAUSTED.</summary>
    public static string Of(StatusCode code)
    {
        string name = code.ToString();
        return string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) && char.IsLower(name[i - 1]) ? "_" + c : char.ToUpperInvariant(c).ToString()));
    }
}
