namespace MockServe.Core.Engine;

/// <summary>
/// Model time for the engine. The engine reads the time only here and waits only by scheduling a callback,
/// so the same code runs in real time (scaled) and on a virtual discrete-event clock.
/// </summary>
public interface IEngineClock
{
    /// <summary>Model seconds since the clock started.</summary>
    double Now { get; }

    /// <summary>Runs <paramref name="callback"/> with its due time once model time reaches <paramref name="at"/>.</summary>
    void Schedule(double at, Action<double> callback);
}
