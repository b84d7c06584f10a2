using MockServe.LoadTests.Measurement;

using static MockServe.LoadTests.Tests.Measurement.Samples;

namespace MockServe.LoadTests.Tests.Measurement;

public sealed class RequestSampleTests
{
    [Fact]
    public void Itl_TenTokens_IsDecodeTimeOverNineGaps()
    {
        // Intended 0, first token 200 ms, last 2,000 ms, 10 tokens: E2E 2,000, TTFT 200, ITL = (2000 - 200) / (10 - 1) = 200 ms.
        var sample = Stream(0, 0, 200, 2_000, 10);

        Assert.Equal(Ms(200), sample.Itl);
    }

    [Fact]
    public void Itl_ComputedFromE2eAndTtft_MatchesFormula()
    {
        // Started 50 ms late: TTFT (from intended) 350, E2E 1,350, OSL 5: (1350 - 350) / 4 = 250 ms.
        var sample = Stream(100, 150, 450, 1_450, 5);

        Assert.Equal(Ms(350), sample.Ttft);
        Assert.Equal(Ms(1_350), sample.E2e);
        Assert.Equal(Ms(250), sample.Itl);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Itl_FewerThanTwoTokens_IsNull(long outputTokens)
    {
        var sample = Stream(0, 0, 200, 200, outputTokens);

        Assert.Null(sample.Itl);
    }

    [Fact]
    public void Ttft_StartedLate_CountsFromIntendedStart()
    {
        // Meant at 1,000, started at 1,300 (the driver was late), first token at 1,500.
        var sample = Stream(1_000, 1_300, 1_500, 3_000, 20);

        Assert.Equal(Ms(500), sample.Ttft);
        Assert.Equal(Ms(200), sample.TtftFromActual);
        Assert.Equal(Ms(300), sample.ScheduleLateness);
    }

    [Fact]
    public void E2e_NoTokens_CountsToTheEndOfTheCall()
    {
        var sample = new RequestSample { Scenario = "unary", IntendedStart = Ms(10), ActualStart = Ms(12), End = Ms(70) };

        Assert.Null(sample.Ttft);
        Assert.Equal(Ms(60), sample.E2e);
    }

    [Fact]
    public void ChunkGaps_Set_GiveWorstGapAndCount()
    {
        var sample = Stream(0, 0, 100, 400, 4) with { ChunkGaps = [Ms(50), Ms(200), Ms(50)] };

        Assert.Equal(Ms(200), sample.WorstGap);
        Assert.Equal(3, sample.GapCount);
    }

    [Fact]
    public void WithoutGaps_SampleWithGaps_KeepsWorstGapAndCount()
    {
        var sample = Stream(0, 0, 100, 400, 4) with { ChunkGaps = [Ms(50), Ms(200), Ms(50)] };

        var trimmed = sample.WithoutGaps();

        Assert.Empty(trimmed.ChunkGaps);
        Assert.Equal(Ms(200), trimmed.WorstGap);
        Assert.Equal(3, trimmed.GapCount);
    }

    [Fact]
    public void RequestTimeline_ThreeChunks_GivesTimesAndGaps()
    {
        // Meant at 100, started at 110; chunks at 300, 350 and 500: gaps 50 and 150.
        var timeline = new RequestTimeline(Ms(100), Ms(110));
        timeline.Chunk(Ms(300));
        timeline.Chunk(Ms(350));
        timeline.Chunk(Ms(500));

        var sample = timeline.Complete(Ms(510), new RequestSample { Scenario = "chat", OutputTokens = 3 });

        Assert.Equal(Ms(200), sample.Ttft);
        Assert.Equal(Ms(400), sample.E2e);
        Assert.Equal([Ms(50), Ms(150)], sample.ChunkGaps);
        Assert.Equal(Ms(150), sample.WorstGap);
        Assert.Equal(Ms(100), sample.Itl);
        Assert.Equal(Ms(510), sample.End);
    }
}
