using System.Globalization;

namespace MockServe.Core.Engine;

/// <summary>Writes every event as one text line; the same seed and arrivals give the same bytes.</summary>
public sealed class EventTraceWriter(TextWriter writer) : IEngineObserver
{
    public void OnEvent(in EngineEvent e) => writer.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"{e.Time:R}\t{e.Kind}\t{e.Request?.RequestId ?? "-"}\t{e.SessionId ?? "-"}\t{e.Count}\t{e.Bytes:R}\t{e.Duration:R}\t{e.Detail ?? "-"}"));

    public void OnStep(in StepSummary step) => writer.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"{step.End:R}\tStep\t{step.DecodeSequences}\t{step.PrefillTokens}\t{step.SwapSeconds:R}\t{step.ComputeSeconds:R}\t{step.Running}\t{step.Waiting}"));
}
