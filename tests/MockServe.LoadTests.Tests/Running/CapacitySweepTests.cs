using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Running;
using MockServe.LoadTests.Scenarios;
using MockServe.LoadTests.Simulations;

namespace MockServe.LoadTests.Tests.Running;

public class CapacitySweepTests
{
    [Fact]
    public async Task RunAsync_LatencyGrowsWithUsers_LastHeldIsTheLargestUnderTheSlo()
    {
        // Each request reports 10 ms per user: 1, 2, 3 users stay under 35 ms; 4 users (40 ms) break it.
        // Half a second a step: a busy CI machine once completed no request in a 200 ms step.
        var sweep = new LoadSweep(SweepKind.Copies, first: 1, increment: 1, count: 6, hold: TimeSpan.FromMilliseconds(500));
        var output = new StringWriter();

        var result = await CapacitySweep.RunAsync(
            sweep,
            (_, users, simulation) => Scenario.Create("users", async context =>
                {
                    await Task.Delay(1, context.CancellationToken);
                    return Response.Ok(latency: TimeSpan.FromMilliseconds(10 * users));
                })
                .WithLoadSimulations(simulation)
                .WithThresholds(SloSet.Parse("latency-p99=35ms")),
            new RunOptions { Output = output });

        Assert.Equal(4, result.Steps.Count);
        Assert.Equal([true, true, true, false], result.Steps.Select(s => s.Held));
        Assert.Equal(3, result.Outcome.LastHeldLoad);
        Assert.Equal(4, result.Outcome.BrokenLoad);
        Assert.Contains("step 3: load 4: broke", output.ToString(), StringComparison.Ordinal);
    }
}
