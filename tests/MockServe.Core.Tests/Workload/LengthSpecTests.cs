using MockServe.Core.Workload;

namespace MockServe.Core.Tests.Workload;

public class LengthSpecTests
{
    private const string Allowed = ". Allowed forms: " + LengthSpec.AllowedForms;

    private static long[] Draw(string spec, int count, int seed = 1)
    {
        var distribution = LengthSpec.Parse("Workload:Context", spec);
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => distribution.Sample(random))];
    }

    [Fact]
    public void Parse_Fixed_EverySampleIsTheValue()
    {
        Assert.All(Draw("fixed:50000", 100), v => Assert.Equal(50000, v));
    }

    [Fact]
    public void Parse_FixedWithSuffix_ReadsThousands()
    {
        // 50k = 50 * 1,000.
        Assert.Equal(50000, Draw("fixed:50k", 1)[0]);
    }

    [Fact]
    public void Parse_Uniform_SamplesCoverBothBoundsAndNothingElse()
    {
        long[] values = Draw("uniform:3-5", 1000);

        Assert.Equal([3L, 4L, 5L], values.Distinct().Order());
    }

    [Fact]
    public void Parse_Normal_MeanAndSdWithinFourStandardErrors()
    {
        // 20,000 draws of N(8000, 2000): the mean's standard error is 2000 / sqrt(20000) = 14.1, so +-60 is ~4 SE;
        // the sd's is about 2000 / sqrt(2 * 20000) = 10, so +-50 is 5 SE.
        long[] values = Draw("normal:8000,2000", 20000);
        double mean = values.Average();
        double sd = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));

        Assert.InRange(mean, 7940, 8060);
        Assert.InRange(sd, 1950, 2050);
    }

    [Fact]
    public void Parse_NormalWithClamp_StaysInsideTheClamp()
    {
        // sd 1000 around 100 would reach far outside 50-150 without the clamp; both ends are hit.
        long[] values = Draw("normal:100,1000,50-150", 1000);

        Assert.Equal(50, values.Min());
        Assert.Equal(150, values.Max());
    }

    [Fact]
    public void Parse_NormalDefaultClamp_NeverBelowOne()
    {
        Assert.Equal(1, Draw("normal:10,1000", 1000).Min());
    }

    [Fact]
    public void Parse_LogNormal_MedianWithinThreePercent()
    {
        // The sample median of 20,001 draws has a standard error of about 1.2533 * 0.8 / sqrt(20001) = 0.71% in log
        // space, so +-3% (60 tokens around 2000) is over 4 SE.
        long[] values = Draw("lognormal:2000,0.8", 20001);
        long median = values.Order().ElementAt(10000);

        Assert.InRange(median, 1940, 2060);
    }

    [Fact]
    public void Parse_LogNormalMu_UsesMuAsTheLogOfTheMedian()
    {
        // Sigma 0 leaves exp(mu) = exp(4.605170186) = 100.00000.
        Assert.All(Draw("lognormal:mu=4.605170186,0", 10), v => Assert.Equal(100, v));
    }

    [Fact]
    public void Parse_Histogram_DrawsBinsByWeight()
    {
        using var dir = new TempDirectory();
        dir.Write("lengths.csv", "# prompt lengths\ntokens,weight\n100,1\n200,3\n\n300,0\n");
        var distribution = LengthSpec.Parse("Workload:Context", "hist:lengths.csv", dir.Path);
        var random = new Random(7);
        long[] values = [.. Enumerable.Range(0, 40000).Select(_ => distribution.Sample(random))];

        // 200 has weight 3 of 4: 0.75, with a standard error of sqrt(0.75 * 0.25 / 40000) = 0.0022; 300 has weight 0.
        double share200 = values.Count(v => v == 200) / 40000.0;
        Assert.InRange(share200, 0.74, 0.76);
        Assert.DoesNotContain(300L, values);
        Assert.Equal(100, distribution.Min);
    }

    [Fact]
    public void TryParse_UniformMinAboveMax_NamesKeyValueAndForms()
    {
        Assert.False(LengthSpec.TryParse("Workload:Context", "uniform:5-2", null, out _, out string? error));
        Assert.Equal("Workload:Context is \"uniform:5-2\": uniform takes MIN-MAX, whole numbers with 1 <= MIN <= MAX, not \"5-2\"" + Allowed, error);
    }

    [Fact]
    public void TryParse_UnknownKind_NamesTheKind()
    {
        Assert.False(LengthSpec.TryParse("--output", "gamma:3", null, out _, out string? error));
        Assert.Equal("--output is \"gamma:3\": unknown kind \"gamma\"" + Allowed, error);
    }

    [Fact]
    public void TryParse_NoKind_SaysTheKindIsMissing()
    {
        Assert.False(LengthSpec.TryParse("Workload:Output", "50000", null, out _, out string? error));
        Assert.Equal("Workload:Output is \"50000\": the kind is missing (KIND:ARGUMENTS)" + Allowed, error);
    }

    [Fact]
    public void TryParse_FixedZero_Refused()
    {
        Assert.False(LengthSpec.TryParse("Workload:Output", "fixed:0", null, out _, out string? error));
        Assert.Equal("Workload:Output is \"fixed:0\": fixed takes one whole number of tokens of at least 1, not \"0\"" + Allowed, error);
    }

    [Fact]
    public void TryParse_NormalNegativeSd_Refused()
    {
        Assert.False(LengthSpec.TryParse("Workload:Output", "normal:100,-5", null, out _, out string? error));
        Assert.Equal("Workload:Output is \"normal:100,-5\": normal takes MEAN,SD[,MIN-MAX]: a mean of at least 1 token and a standard deviation of at least 0" + Allowed, error);
    }

    [Fact]
    public void TryParse_HistogramBadWeight_NamesFileAndLine()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("h.csv", "100,1\n200,-1\n");

        Assert.False(LengthSpec.TryParse("Workload:Context", $"hist:{path}", null, out _, out string? error));
        Assert.Equal($"Workload:Context is \"hist:{path}\": {path} line 2: weight \"-1\" must be a number of at least 0" + Allowed, error);
    }

    [Fact]
    public void TryParse_HistogramAllZeroWeights_Refused()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("h.csv", "100,0\n");

        Assert.False(LengthSpec.TryParse("k", $"hist:{path}", null, out _, out string? error));
        Assert.Equal($"k is \"hist:{path}\": {path} has no bin of positive weight" + Allowed, error);
    }

    [Fact]
    public void Parse_Bad_ThrowsFormatExceptionWithTheMessage()
    {
        var e = Assert.Throws<FormatException>(() => LengthSpec.Parse("k", "fixed:x"));
        Assert.StartsWith("k is \"fixed:x\": fixed takes", e.Message, StringComparison.Ordinal);
    }
}
