using System.Text;

using MockServe.Server.Services;

namespace MockServe.Server.Tests.Services;

public class StopSequenceMatcherTests
{
    [Fact]
    public void TryCut_StopInsideTheChunk_CutsJustBeforeIt()
    {
        var matcher = new StopSequenceMatcher(["gamma"]);
        var chunk = new StringBuilder(" alpha gamma delta");

        Assert.True(matcher.TryCut(chunk));
        Assert.Equal(" alpha ", chunk.ToString());
    }

    [Fact]
    public void TryCut_StopStraddlingTheSentText_MatchesAndSendsNothingMore()
    {
        var matcher = new StopSequenceMatcher(["gamma", "x"]);
        var first = new StringBuilder(" beta gam");
        Assert.False(matcher.TryCut(first));
        matcher.Sent(first.ToString());

        var second = new StringBuilder("ma delta");

        Assert.True(matcher.TryCut(second));
        Assert.Equal("", second.ToString());
    }

    [Fact]
    public void TryCut_StopSentLongAgo_IsNotFoundAgain()
    {
        var matcher = new StopSequenceMatcher(["ab"]);
        // Only the last character sent can start a match that ends in the next chunk.
        matcher.Sent("xab");
        matcher.Sent("yz");

        Assert.False(matcher.TryCut(new StringBuilder("cd")));
    }

    [Fact]
    public void TryCut_NoStops_NeverMatches()
    {
        var matcher = new StopSequenceMatcher([]);
        matcher.Sent("anything");

        Assert.False(matcher.TryCut(new StringBuilder("gamma")));
    }
}
