namespace MockServe.LoadTests.Running;

/// <summary>
/// The model's clock over a wall clock, for a target that runs at a time scale (wall seconds per model second, as the
/// server's <c>--time-scale</c>): timestamps advance 1 / scale times as fast as the wall clock's, and timers wait
/// scale times their due time on it. Load simulations, think times and every measurement taken on it are model time,
/// so a run at 0.01 reads as the real deployment would, a hundred times sooner.
/// </summary>
/// <remarks>
/// <see cref="GetUtcNow"/> stays the wall clock's: it only sets gRPC deadlines, which the transport keeps in wall time.
/// A timer never waits less than a wall millisecond (below that, timers fire at once and a loop re-arming them would
/// spin), so at 0.01 the clock's resolution is a tenth of a model second; a wall millisecond of the client's own
/// overhead also reads as 1 / scale model milliseconds.
/// </remarks>
public sealed class ModelClock : TimeProvider
{
    private static readonly TimeSpan MinimumWallWait = TimeSpan.FromMilliseconds(1);

    private readonly TimeProvider _wall;
    private readonly long _origin;

    /// <param name="wall">The clock the model's runs on.</param>
    /// <param name="scale">Wall seconds per model second: above 0 and at most 1000.</param>
    public ModelClock(TimeProvider wall, double scale)
    {
        ArgumentNullException.ThrowIfNull(wall);
        if (!(scale > 0 && scale <= 1000))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The time scale must be above 0 and at most 1000.");
        }

        _wall = wall;
        Scale = scale;
        _origin = wall.GetTimestamp();
    }

    /// <summary>Wall seconds per model second.</summary>
    public double Scale { get; }

    /// <summary>The wall clock below this one.</summary>
    public TimeProvider Wall => _wall;

    /// <summary>The run's clock: <paramref name="wall"/> itself at scale 1, a model clock over it otherwise.</summary>
    public static TimeProvider For(TimeProvider wall, double scale) => scale == 1 ? wall : new ModelClock(wall, scale);

    public override long TimestampFrequency => _wall.TimestampFrequency;

    public override long GetTimestamp() => _origin + (long)((_wall.GetTimestamp() - _origin) / Scale);

    public override DateTimeOffset GetUtcNow() => _wall.GetUtcNow();

    public override TimeZoneInfo LocalTimeZone => _wall.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new ScaledTimer(this, _wall.CreateTimer(callback, state, ToWall(dueTime), ToWall(period)));

    /// <summary>A model-time span as wall time: infinite and zero stay as they are; anything else waits at least a wall millisecond.</summary>
    internal TimeSpan ToWall(TimeSpan model)
    {
        if (model == Timeout.InfiniteTimeSpan || model <= TimeSpan.Zero)
        {
            return model;
        }

        var wall = TimeSpan.FromTicks((long)Math.Ceiling(model.Ticks * Scale));
        return wall < MinimumWallWait ? MinimumWallWait : wall;
    }

    private sealed class ScaledTimer(ModelClock clock, ITimer inner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(clock.ToWall(dueTime), clock.ToWall(period));

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
