namespace MockServe.Tests.Shared;

/// <summary>A fresh directory for a test's files, deleted afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("mockserve-test-").FullName;
    }

    public string Path { get; }

    public string Write(string fileName, string text)
    {
        string path = System.IO.Path.Combine(Path, fileName);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
