using Grpc.Core;

using MockServe.Server.Hosting;

namespace MockServe.Server.Failures;

/// <summary>Picks the injected failure of a request, if any: forced by metadata, else drawn at the configured rate.</summary>
public sealed class FailureInjector(FailureInjectionOptions options, int seed)
{
    private readonly Random _random = new(seed);

    /// <summary>The failure kind, or null for none.</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT for an unknown kind in the metadata.</exception>
    public string? Decide(Metadata headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (headers.GetValue(FailureInjectionOptions.MetadataKey) is { } forced)
        {
            return FailureKinds.All.Contains(forced)
                ? forced
                : throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"{FailureInjectionOptions.MetadataKey}: unknown failure kind '{forced}', expected one of {string.Join(", ", FailureKinds.All)}"));
        }

        if (options.Rate <= 0)
        {
            return null;
        }

        lock (_random)
        {
            return _random.NextDouble() < options.Rate ? options.Kinds[_random.Next(options.Kinds.Count)] : null;
        }
    }
}
