using System.Globalization;
using System.Security.Cryptography;
using System.Text;

using Grpc.Core;

using MockServe.Core.Profiles;
using MockServe.Server.Hosting;

namespace MockServe.Server.Security;

/// <summary>One accepted key and the client it names.</summary>
/// <param name="Client">The client identity: the entry's name, or "key#N" for the N-th entry without one.</param>
internal sealed record ApiKeyEntry(string Client, string Key);

/// <summary>
/// The API keys of <see cref="ServerOptions.ApiKeys"/> and <see cref="ServerOptions.ApiKeysFile"/>: one entry a line
/// (or list item), <c>KEY</c> or <c>NAME:KEY</c>, blank lines and lines starting with '#' skipped. Messages about
/// them name the setting, the item or line, never the key.
/// </summary>
internal static class ApiKeyList
{
    /// <summary>Every entry, the list's first, then the file's.</summary>
    /// <exception cref="InvalidOperationException">The keys are unusable (validation lets no such settings through).</exception>
    public static IReadOnlyList<ApiKeyEntry> Read(ServerOptions options)
    {
        var (entries, errors) = Parse(options);
        return errors.Count == 0 ? entries : throw new InvalidOperationException(string.Join("; ", errors));
    }

    /// <summary>The checks behind <see cref="ServerOptions.Validate"/>: what is wrong with the keys, if anything.</summary>
    public static IReadOnlyList<SettingError> Validate(ServerOptions options) => Parse(options).Errors;

    private static (List<ApiKeyEntry> Entries, List<SettingError> Errors) Parse(ServerOptions options)
    {
        var entries = new List<ApiKeyEntry>();
        var errors = new List<SettingError>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < options.ApiKeys.Count; i++)
        {
            Add(options.ApiKeys[i].Trim(), nameof(ServerOptions.ApiKeys), $"item {i + 1}");
        }

        if (options.ApiKeysFile.Length > 0)
        {
            string path = options.ApiKeysFile;
            if (!File.Exists(path))
            {
                errors.Add(new SettingError(nameof(ServerOptions.ApiKeysFile), $"{path}: file not found"));
                return (entries, errors);
            }

            int before = entries.Count;
            string[] lines;
            try
            {
                lines = File.ReadAllLines(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                errors.Add(new SettingError(nameof(ServerOptions.ApiKeysFile), $"{path}: cannot be read: {ex.Message}"));
                return (entries, errors);
            }

            for (int n = 0; n < lines.Length; n++)
            {
                string line = lines[n].Trim();
                if (line.Length > 0 && line[0] != '#')
                {
                    Add(line, nameof(ServerOptions.ApiKeysFile), $"{path}:{n + 1}");
                }
            }

            if (entries.Count == before && errors.Count == 0)
            {
                errors.Add(new SettingError(nameof(ServerOptions.ApiKeysFile), $"{path}: holds no key (one KEY or NAME:KEY a line)"));
            }
        }

        return (entries, errors);

        void Add(string entry, string property, string where)
        {
            int colon = entry.IndexOf(':', StringComparison.Ordinal);
            string name = colon < 0 ? string.Create(CultureInfo.InvariantCulture, $"key#{entries.Count + 1}") : entry[..colon].Trim();
            string key = colon < 0 ? entry : entry[(colon + 1)..].Trim();
            string? problem =
                colon == 0 || (colon > 0 && name.Length == 0) ? "the name before ':' is empty"
                : colon > 0 && name.AsSpan().ContainsAny("/#") ? $"the name '{name}' may not contain '/' or '#'"
                : key.Length == 0 ? "the key is empty"
                : !key.All(c => c is > ' ' and <= '~') ? "the key must be printable ASCII without spaces (it travels in an HTTP header)"
                : !seen.Add(key) ? "the key appears twice (give each client its own)"
                : null;
            if (problem is null)
            {
                entries.Add(new ApiKeyEntry(name, key));
            }
            else
            {
                errors.Add(new SettingError(property, $"{where}: {problem}"));
            }
        }
    }
}

/// <summary>
/// The keys a call may present, and the client each one names. Keys are kept only as SHA-256 hashes and compared
/// in constant time: every hash is compared, whichever matches, so the time taken says nothing about the keys.
/// </summary>
internal sealed class ApiKeyTable
{
    /// <summary>The client the warm-up calls as; a name no configured key can have ('#').</summary>
    public const string WarmupClient = "warmup#";

    private readonly (byte[] Hash, string Client)[] _keys;

    public ApiKeyTable(IReadOnlyList<ApiKeyEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        IsEnabled = entries.Count > 0;
        // The server's own key for its warm-up, 256 random bits that never leave the process: no bypass others can use.
        InternalKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        _keys = [.. entries.Select(e => (Hash(e.Key), e.Client)), (Hash(InternalKey), WarmupClient)];
        Clients = entries.Select(e => e.Client).Distinct(StringComparer.Ordinal).Count();
    }

    /// <summary>True when keys are configured: every call outside the open endpoints needs one.</summary>
    public bool IsEnabled { get; }

    /// <summary>Distinct clients among the configured keys.</summary>
    public int Clients { get; }

    /// <summary>The configured keys.</summary>
    public int Count => _keys.Length - 1;

    /// <summary>The key of the server's calls to itself (the warm-up).</summary>
    public string InternalKey { get; }

    public static ApiKeyTable From(ServerOptions options) => new(ApiKeyList.Read(options));

    /// <summary>Adds the internal key to <paramref name="headers"/> when keys are on.</summary>
    public Metadata Authorize(Metadata headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (IsEnabled)
        {
            headers.Add("authorization", $"Bearer {InternalKey}");
        }

        return headers;
    }

    /// <summary>The client whose key <paramref name="authorization"/> (an authorization header's values) carries.</summary>
    public ApiKeyCheck Check(IReadOnlyList<string?> authorization)
    {
        ArgumentNullException.ThrowIfNull(authorization);
        if (authorization.Count == 0 || string.IsNullOrWhiteSpace(authorization[0]))
        {
            return ApiKeyCheck.Missing;
        }

        const string Scheme = "Bearer ";
        string value = authorization[0]!.Trim();
        if (authorization.Count > 1 || !value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || value.Length == Scheme.Length)
        {
            return ApiKeyCheck.Malformed;
        }

        byte[] presented = Hash(value[Scheme.Length..].Trim());
        string? client = null;
        foreach (var (hash, name) in _keys)
        {
            // No early exit: the loop takes as long whichever key (if any) matches.
            bool match = CryptographicOperations.FixedTimeEquals(hash, presented);
            client = match ? name : client;
        }

        return client is null ? ApiKeyCheck.Invalid : new ApiKeyCheck(new ClientIdentity(client), null);
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

/// <summary>The outcome of <see cref="ApiKeyTable.Check"/>: the client, or why there is none (never the key).</summary>
internal sealed record ApiKeyCheck(ClientIdentity? Client, string? Problem)
{
    public static ApiKeyCheck Missing { get; } =
        new(null, "missing API key: this server requires the metadata 'authorization: Bearer <key>'");

    public static ApiKeyCheck Malformed { get; } =
        new(null, "malformed authorization metadata: send one 'authorization: Bearer <key>'");

    public static ApiKeyCheck Invalid { get; } = new(null, "the API key is not valid");
}
