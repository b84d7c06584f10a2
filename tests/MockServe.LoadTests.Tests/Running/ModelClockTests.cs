using Microsoft.Extensions.Time.Testing;

using MockServe.LoadTests.Running;

namespace MockServe.LoadTests.Tests.Running;

public class ModelClockTests
{
    private readonly FakeTimeProvider _wall = new();

    [Fact]
    public void GetElapsedTime_WallAdvancesOneSecondAtScaleOneHundredth_HundredModelSeconds()
    {
        var model = new ModelClock(_wall, 0.01);
        long start = model.GetTimestamp();

        _wall.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.FromSeconds(100), model.GetElapsedTime(start));
    }

    [Fact]
    public async Task Delay_FiftyModelSecondsAtScaleOneHundredth_EndsAfterHalfAWallSecond()
    {
        var model = new ModelClock(_wall, 0.01);
        var delay = Task.Delay(TimeSpan.FromSeconds(50), model);

        _wall.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(delay.IsCompleted);
        _wall.Advance(TimeSpan.FromMilliseconds(1));
        await delay.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Change_TimerReArmed_WaitsTheScaledTimeOnTheWall()
    {
        var model = new ModelClock(_wall, 0.5);
        int fired = 0;
        using var timer = model.CreateTimer(_ => fired++, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        // 4 model seconds at 0.5 wall seconds each: 2 wall seconds.
        timer.Change(TimeSpan.FromSeconds(4), Timeout.InfiniteTimeSpan);
        _wall.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.Equal(0, fired);
        _wall.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void ToWall_BelowAWallMillisecond_WaitsAWallMillisecond()
    {
        var model = new ModelClock(_wall, 0.01);

        // 50 model ms are 0.5 wall ms: timers keep whole milliseconds, so it waits one (or a re-arming loop would spin).
        Assert.Equal(TimeSpan.FromMilliseconds(1), model.ToWall(TimeSpan.FromMilliseconds(50)));
        Assert.Equal(TimeSpan.FromMilliseconds(2), model.ToWall(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(TimeSpan.Zero, model.ToWall(TimeSpan.Zero));
        Assert.Equal(Timeout.InfiniteTimeSpan, model.ToWall(Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public void GetUtcNow_AnyScale_StaysWallTimeForDeadlines()
    {
        var model = new ModelClock(_wall, 0.01);
        var before = model.GetUtcNow();

        _wall.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.FromSeconds(1), model.GetUtcNow() - before);
    }

    [Fact]
    public void For_ScaleOne_TheWallClockItself()
    {
        Assert.Same(_wall, ModelClock.For(_wall, 1));
        Assert.IsType<ModelClock>(ModelClock.For(_wall, 0.5));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1001)]
    [InlineData(double.NaN)]
    public void Constructor_ScaleOutOfRange_Throws(double scale)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelClock(_wall, scale));
    }
}
