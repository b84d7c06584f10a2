using System.Security.Cryptography;

namespace MockServe.Server.Security;

/// <summary>
/// Ids the server gives requests that come without one. They are 128 random bits from the operating system's
/// CSPRNG, so no client can guess another's id to abort it or take it first. This is security, not modelling:
/// the seeded source reproduces runs, and a reproducible id is a guessable one.
/// </summary>
internal static class RequestIds
{
    public const string Prefix = "ms-";

    /// <summary>"ms-" and 32 lower-case hex digits.</summary>
    public static string NewServerId()
    {
        Span<byte> bits = stackalloc byte[16];
        RandomNumberGenerator.Fill(bits);
        return Prefix + Convert.ToHexStringLower(bits);
    }
}
