using MockServe.Server.Hosting;
using MockServe.Server.Security;

namespace MockServe.Server.Tests.Security;

public sealed class ApiKeyTableTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Check_ConfiguredKeys_NameTheirClients()
    {
        var table = ApiKeyTable.From(new ServerOptions { ApiKeys = ["alice:secret-a", "secret-b"] });

        Assert.Equal("alice", table.Check(["Bearer secret-a"]).Client?.Name);
        // The second entry has no name: it is the client "key#2".
        Assert.Equal("key#2", table.Check(["bearer secret-b"]).Client?.Name);
    }

    [Fact]
    public void Check_InternalKey_NamesTheWarmupClient()
    {
        var table = ApiKeyTable.From(new ServerOptions { ApiKeys = ["alice:secret-a"] });

        Assert.Equal(ApiKeyTable.WarmupClient, table.Check([$"Bearer {table.InternalKey}"]).Client?.Name);
        Assert.NotEqual(table.InternalKey, ApiKeyTable.From(new ServerOptions { ApiKeys = ["alice:secret-a"] }).InternalKey);
    }

    [Theory]
    [InlineData(null, "missing")]
    [InlineData("", "missing")]
    [InlineData("secret-a", "malformed")]
    [InlineData("Bearer ", "malformed")]
    [InlineData("Basic secret-a", "malformed")]
    [InlineData("Bearer secret-c", "invalid")]
    [InlineData("Bearer secret-a2", "invalid")]
    public void Check_NoValidKey_SaysWhyWithoutTheKey(string? header, string why)
    {
        var table = ApiKeyTable.From(new ServerOptions { ApiKeys = ["alice:secret-a"] });

        var check = table.Check(header is null ? [] : [header]);

        Assert.Null(check.Client);
        Assert.Equal(why switch { "missing" => ApiKeyCheck.Missing, "malformed" => ApiKeyCheck.Malformed, _ => ApiKeyCheck.Invalid }, check);
        Assert.DoesNotContain("secret", check.Problem);
    }

    [Fact]
    public void Check_TwoAuthorizationHeaders_Malformed()
    {
        var table = ApiKeyTable.From(new ServerOptions { ApiKeys = ["alice:secret-a"] });

        Assert.Equal(ApiKeyCheck.Malformed, table.Check(["Bearer secret-a", "Bearer secret-a"]));
    }

    [Fact]
    public void Validate_BadEntries_NameTheLineAndNeverTheKey()
    {
        string file = _dir.Write("keys.txt", "ok:secret-1\n:secret-2\nbad/name:secret-3\nspace:secret 4\ndup:secret-1\nempty:\n");

        var errors = ApiKeyList.Validate(new ServerOptions { ApiKeysFile = file });

        Assert.Equal(
            [
                $"{file}:2: the name before ':' is empty",
                $"{file}:3: the name 'bad/name' may not contain '/' or '#'",
                $"{file}:4: the key must be printable ASCII without spaces (it travels in an HTTP header)",
                $"{file}:5: the key appears twice (give each client its own)",
                $"{file}:6: the key is empty",
            ],
            errors.Select(e => e.Problem));
        Assert.All(errors, e => Assert.Equal(nameof(ServerOptions.ApiKeysFile), e.Property));
    }

    [Fact]
    public void Validate_FileOfCommentsOnly_HoldsNoKey()
    {
        string file = _dir.Write("keys.txt", "# nobody yet\n\n");

        var error = Assert.Single(ApiKeyList.Validate(new ServerOptions { ApiKeysFile = file }));

        Assert.Equal($"{file}: holds no key (one KEY or NAME:KEY a line)", error.Problem);
    }

    [Fact]
    public void From_NoKeys_IsNotEnabled()
    {
        Assert.False(ApiKeyTable.From(new ServerOptions()).IsEnabled);
    }
}
