using MockServe.Core.Simulation;

namespace MockServe.Core.Tests.Simulation;

public class LatencySummaryTests
{
    [Fact]
    public void From_OneToAHundred_NearestRankPercentiles()
    {
        var summary = LatencySummary.From([.. Enumerable.Range(1, 100).Select(i => (double)i)]);

        // Nearest rank: the ceil(q x 100)-th smallest of 1..100 is q x 100 itself.
        Assert.Equal(50, summary.P50);
        Assert.Equal(90, summary.P90);
        Assert.Equal(95, summary.P95);
        Assert.Equal(99, summary.P99);
        Assert.Equal(100, summary.Max);
    }
}
