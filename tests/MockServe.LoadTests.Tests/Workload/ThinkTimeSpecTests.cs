using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Tests.Workload;

public class ThinkTimeSpecTests
{
    private const string Allowed = ". Allowed forms: " + ThinkTimeSpec.AllowedForms;

    [Fact]
    public void Parse_Fixed_AlwaysThatPause()
    {
        var think = ThinkTimeSpec.Parse("k", "fixed:2s");

        Assert.Equal(TimeSpan.FromSeconds(2), think.Next(new Random(1), 500));
    }

    [Fact]
    public void Parse_None_NoPause()
    {
        Assert.Equal(TimeSpan.Zero, ThinkTimeSpec.Parse("k", "none").Next(new Random(1), 500));
    }

    [Fact]
    public void Parse_PerToken_ProportionalToOutput()
    {
        // 300 tokens * 50 ms = 15 s.
        var think = ThinkTimeSpec.Parse("k", "per-token:50ms");

        Assert.Equal(TimeSpan.FromSeconds(15), think.Next(new Random(1), 300));
    }

    [Fact]
    public void Parse_Exponential_MeanWithinFourStandardErrors()
    {
        // An exponential's sd equals its mean: the mean of 20,000 draws has a standard error of 5 / sqrt(20000) = 0.035 s.
        var think = ThinkTimeSpec.Parse("k", "exponential:5s");
        var random = new Random(3);
        double mean = Enumerable.Range(0, 20000).Average(_ => think.Next(random, 0).TotalSeconds);

        Assert.InRange(mean, 4.86, 5.14);
    }

    [Fact]
    public void TryParse_NegativeDuration_Refused()
    {
        Assert.False(ThinkTimeSpec.TryParse("Workload:ThinkTime", "exponential:-1s", out _, out string? error));
        Assert.Equal("Workload:ThinkTime is \"exponential:-1s\": \"-1s\" is not a duration from 0 to 1d" + Allowed, error);
    }

    [Fact]
    public void TryParse_UnknownKind_NamesTheKind()
    {
        Assert.False(ThinkTimeSpec.TryParse("--think-time", "sleep:1s", out _, out string? error));
        Assert.Equal("--think-time is \"sleep:1s\": unknown kind \"sleep\"" + Allowed, error);
    }
}
