namespace MockServe.LoadTests.Simulations;

/// <summary>How a step makes load: copies looping (closed), starts on a schedule (open), or nothing (pause).</summary>
public enum LoadModel
{
    /// <summary>A target number of copies, each starting its next invocation when the last one ends.</summary>
    Closed,

    /// <summary>Invocations start at scheduled times, never waiting for earlier ones to complete.</summary>
    Open,

    /// <summary>No new invocations.</summary>
    Pause,
}

/// <summary>
/// One step of a load chain, with NBomber's names and meanings (KeepConstant, Inject, ...). Made by the factories
/// of <see cref="Simulation"/>, which validate every argument; the kinds themselves are internal.
/// </summary>
public abstract class LoadSimulation
{
    private protected LoadSimulation()
    {
    }

    /// <summary>The NBomber name of the kind, e.g. <c>KeepConstant</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Closed, open or pause.</summary>
    public abstract LoadModel Model { get; }

    /// <summary>How long the step lasts; null when it lasts until its iterations are done (IterationsForConstant).</summary>
    public abstract TimeSpan? Duration { get; }

    /// <summary>The number of invocations the step makes, when it is bounded by a count (IterationsFor*).</summary>
    public virtual long? Iterations => null;

    /// <summary>The arguments as written, e.g. <c>Inject(rate: 10, interval: 1s, during: 30s)</c>.</summary>
    public abstract override string ToString();

    /// <summary>Closed steps: target copies at <paramref name="since"/> from the step's start.</summary>
    internal virtual int CopiesAt(int startCopies, TimeSpan since) => 0;

    /// <summary>Closed steps: the first moment after <paramref name="since"/> the target changes, or null.</summary>
    internal virtual TimeSpan? NextCopiesChange(int startCopies, TimeSpan since) => null;

    /// <summary>Copies at the step's end, where a following RampingConstant starts from.</summary>
    internal virtual int EndCopies(int startCopies) => 0;

    /// <summary>Open steps: starts per second at the step's end, where a following RampingInject starts from.</summary>
    internal virtual double EndRatePerSecond(double startRate) => 0;

    /// <summary>Open steps: every intended start, as offsets from the step's start, in order, all before its end.</summary>
    internal virtual IEnumerable<TimeSpan> Starts(double startRate, Random random) => [];
}
