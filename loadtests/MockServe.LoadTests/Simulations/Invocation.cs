namespace MockServe.LoadTests.Simulations;

/// <summary>
/// One call of the scenario by the <see cref="LoadDriver"/>. Times are offsets from the run's start.
/// </summary>
/// <param name="Step">The plan step that made it.</param>
/// <param name="Copy">Closed steps: the copy (0 .. copies - 1) that runs it, the same for all its loops. Open steps:
/// every start is a fresh copy, numbered by arrival from 0 over the run.</param>
/// <param name="Number">The invocation's number over the run, in order of arrival, from 0 (a dropped one keeps its number).</param>
/// <param name="IntendedStart">Open: when the schedule meant it to start. Closed: when its copy was ready for it.</param>
/// <param name="ActualStart">When the scenario was called.</param>
/// <param name="QueueWait">How long it waited for a slot under <see cref="DriverOptions.MaxInFlight"/> (0 when it did not).</param>
public readonly record struct Invocation(int Step, long Copy, long Number, TimeSpan IntendedStart, TimeSpan ActualStart, TimeSpan QueueWait)
{
    /// <summary>Schedule lateness, actual minus intended start: what hides as coordinated omission when not recorded.</summary>
    public TimeSpan Lateness => ActualStart - IntendedStart;
}
