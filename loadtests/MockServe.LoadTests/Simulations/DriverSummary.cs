namespace MockServe.LoadTests.Simulations;

/// <summary>What the <see cref="LoadDriver"/> did over a run. Times are offsets from the run's start or durations.</summary>
/// <param name="Started">Invocations the scenario was called for.</param>
/// <param name="Completed">Of those, the ones that returned.</param>
/// <param name="Faulted">The ones that threw (other than by the driver's own cancellation); the run went on.</param>
/// <param name="Cancelled">The ones cancelled by the driver after the grace period (or an abort) that returned.</param>
/// <param name="Dropped">Invocations not run because the cap was reached under <see cref="OverflowPolicy.Drop"/>.</param>
/// <param name="Queued">Invocations that waited for a slot under <see cref="OverflowPolicy.Queue"/>.</param>
/// <param name="Expired">Queued invocations still waiting at the plan's end, never run.</param>
/// <param name="Abandoned">Invocations (or copies) that had not returned even after cancellation and <see cref="DriverOptions.CancelWait"/>.</param>
/// <param name="TotalQueueWait">The queue waits of all queued invocations added up.</param>
/// <param name="MaxQueueWait">The longest queue wait.</param>
/// <param name="MaxLateness">The largest actual minus intended start.</param>
/// <param name="PeakInFlight">The most invocations in flight at once.</param>
/// <param name="PeakCopies">The most closed copies running at once.</param>
/// <param name="PlanEnd">When the last step ended (or the run was aborted).</param>
/// <param name="End">When the driver returned, after the grace period and any cancellation.</param>
/// <param name="Aborted">The caller's token ended the run before the plan did (in-flight invocations were cancelled at once).</param>
/// <param name="Stopped"><see cref="LoadDriver.Stop"/> ended the plan early (in-flight invocations had the grace period).</param>
/// <param name="ObserverFaults">Times a <see cref="LoadDriver.StepStarted"/> handler threw.</param>
public sealed record DriverSummary(
    long Started,
    long Completed,
    long Faulted,
    long Cancelled,
    long Dropped,
    long Queued,
    long Expired,
    long Abandoned,
    TimeSpan TotalQueueWait,
    TimeSpan MaxQueueWait,
    TimeSpan MaxLateness,
    int PeakInFlight,
    int PeakCopies,
    TimeSpan PlanEnd,
    TimeSpan End,
    bool Aborted,
    bool Stopped,
    long ObserverFaults);
