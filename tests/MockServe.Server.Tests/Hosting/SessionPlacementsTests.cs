using MockServe.Server.Hosting;

namespace MockServe.Server.Tests.Hosting;

public sealed class SessionPlacementsTests
{
    [Fact]
    public void Set_SessionMovesToAnotherReplica_ReturnsTheReplicaItLeft()
    {
        var placements = new SessionPlacements(capacity: 10);
        Assert.Equal(-1, placements.Set("a", replica: 2, tokens: 1000));

        int left = placements.Set("a", replica: 0, tokens: 1100);

        Assert.Equal(2, left);
        Assert.Equal(0, placements.TokensOn("a", 2));
        Assert.Equal(1100, placements.TokensOn("a", 0));
    }

    [Fact]
    public void Set_SessionStaysOnItsReplica_ReturnsNoneLeft()
    {
        var placements = new SessionPlacements(capacity: 10);
        placements.Set("a", replica: 1, tokens: 1000);

        Assert.Equal(-1, placements.Set("a", replica: 1, tokens: 1100));
        Assert.Equal(1100, placements.TokensOn("a", 1));
    }

    [Fact]
    public void Set_BeyondCapacity_ForgetsTheLeastRecentlyPlacedSession()
    {
        var placements = new SessionPlacements(capacity: 2);
        placements.Set("a", 0, 10);
        placements.Set("b", 1, 20);
        // a placed again: b is now the least recently placed.
        placements.Set("a", 0, 30);

        placements.Set("c", 2, 40);

        Assert.Equal(2, placements.Count);
        Assert.Equal(0, placements.TokensOn("b", 1));
        Assert.Equal(30, placements.TokensOn("a", 0));
        Assert.Equal(40, placements.TokensOn("c", 2));
    }

    [Fact]
    public void Remove_PlacedSession_ForgetsIt()
    {
        var placements = new SessionPlacements(capacity: 2);
        placements.Set("a", 0, 10);

        placements.Remove("a");

        Assert.Equal(0, placements.TokensOn("a", 0));
        Assert.Equal(-1, placements.Set("a", 1, 10));
    }
}
