namespace MockServe.Reliability.Harness;

/// <summary>What every suite gets: its name, the server to start, the seed, smoke or full, the clock and the output.</summary>
internal sealed record RunContext(
    string Suite,
    string ServerDll,
    int Seed,
    bool Smoke,
    bool KeepLogs,
    TimeProvider Time,
    TextWriter Output)
{
    /// <summary>The smoke figure when --smoke is given, else the full one, unless the suite's own option overrides both.</summary>
    public T Pick<T>(T? given, T smoke, T full)
        where T : struct => given ?? (Smoke ? smoke : full);

    /// <summary>A seeded source for one task of the run: the same seed and stream give the same draws.</summary>
    public Random NewRandom(int stream = 0) => new(unchecked((Seed * 1_000_003) + stream));
}
