using MockServe.Core.Engine;
using MockServe.Core.Profiles;

namespace MockServe.Core.Tests.Engine;

/// <summary>An engine on a virtual clock that records every event.</summary>
internal sealed class EngineHarness : IEngineObserver
{
    public EngineHarness(Deployment? deployment = null, EngineOptions? options = null)
    {
        Clock = new VirtualClock();
        Engine = new InferenceEngine(deployment ?? Presets.DefaultDeployment, options ?? new EngineOptions(), Clock, this);
    }

    public VirtualClock Clock { get; }

    public InferenceEngine Engine { get; }

    public List<EngineEvent> Events { get; } = [];

    public List<StepSummary> Steps { get; } = [];

    public Dictionary<string, RequestResult> Results { get; } = [];

    public void OnEvent(in EngineEvent e)
    {
        Events.Add(e);
        if (e.Result is { } result)
        {
            Results[result.Request.RequestId] = result;
        }
    }

    public void OnStep(in StepSummary step) => Steps.Add(step);

    public SubmitResult Submit(string id, long prompt, long maxTokens, string? session = null) =>
        Engine.Submit(new InferenceRequest { RequestId = id, SessionId = session, PromptTokens = prompt, MaxTokens = maxTokens });

    /// <summary>Submits at model time <paramref name="at"/>, from the clock, as a client would.</summary>
    public void SubmitAt(double at, string id, long prompt, long maxTokens, string? session = null) =>
        Clock.Schedule(at, _ => Assert.True(Submit(id, prompt, maxTokens, session).IsAccepted, $"{id} refused"));

    public RequestResult Run(string id)
    {
        Assert.True(Clock.RunUntilIdle(10_000_000), "engine did not go idle");
        return Results[id];
    }

    public double[] TokenTimes(string id) =>
        Events.Where(e => e.Kind == EngineEventKind.Token && e.Request?.RequestId == id).Select(e => e.Time).ToArray();

    public EngineEvent Single(EngineEventKind kind, string? sessionId = null) =>
        Events.Single(e => e.Kind == kind && (sessionId is null || e.SessionId == sessionId));
}
