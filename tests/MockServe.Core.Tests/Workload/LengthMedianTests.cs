using MockServe.Core.Workload;

namespace MockServe.Core.Tests.Workload;

public class LengthMedianTests
{
    [Fact]
    public void Of_Fixed_IsTheValue()
    {
        Assert.Equal(50_000, LengthMedian.Of(LengthSpec.Parse("k", "fixed:50k")));
    }

    [Fact]
    public void Of_UniformOneToThree_IsTwo()
    {
        // 10,001 draws of 1, 2 or 3, about 3,334 each: the 5,001st smallest is a 2 unless the 1s or the 3s alone
        // filled more than half, over 13 standard deviations (sqrt(10,001 x 1/3 x 2/3) = 47) from their mean.
        Assert.Equal(2, LengthMedian.Of(LengthSpec.Parse("k", "uniform:1-3")));
    }

    [Fact]
    public void Of_LogNormal_IsNearTheGivenMedian()
    {
        // exp(mu) is the median; 10,001 draws put the sample median within 2% of 8,000: its standard error is
        // sigma x sqrt(pi / 2) / sqrt(10,001) = 0.8 x 1.2533 / 100 = 1.0% of the median.
        Assert.InRange(LengthMedian.Of(LengthSpec.Parse("k", "lognormal:8000,0.8")), 7_840, 8_160);
    }
}
