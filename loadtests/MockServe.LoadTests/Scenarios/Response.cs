using MockServe.LoadTests.Measurement;

namespace MockServe.LoadTests.Scenarios;

/// <summary>
/// What one invocation of a scenario returns, as in NBomber: ok or fail, with an optional status, size and a latency
/// of its own (else the runner times the invocation). An LLM step returns the whole <see cref="RequestSample"/> it
/// measured instead.
/// </summary>
public sealed record Response
{
    private Response(bool ok, string status, long? sizeBytes, TimeSpan? latency, RequestSample? sample)
    {
        IsOk = ok;
        Status = status;
        SizeBytes = sizeBytes;
        Latency = latency;
        Sample = sample;
    }

    public bool IsOk { get; }

    public string Status { get; }

    public long? SizeBytes { get; }

    /// <summary>A latency the step measured itself; null: from the invocation's intended start to its end.</summary>
    public TimeSpan? Latency { get; }

    /// <summary>The full measurement of a streamed LLM request, when the step made one.</summary>
    public RequestSample? Sample { get; }

    /// <summary>What went wrong, for the report's error table and requests.jsonl; null on success.</summary>
    public string? Message { get; private init; }

    public static Response Ok(long? sizeBytes = null, TimeSpan? latency = null) => new(true, RequestSample.OkStatus, sizeBytes, latency, null);

    /// <param name="status">A short code errors are counted by (an HTTP or gRPC status, say).</param>
    /// <param name="message">What went wrong in words, kept per request and shown once per status.</param>
    public static Response Fail(string status = "FAIL", long? sizeBytes = null, TimeSpan? latency = null, string? message = null) =>
        new(false, string.IsNullOrEmpty(status) ? "FAIL" : status, sizeBytes, latency, null) { Message = message };

    /// <summary>The step recorded its requests itself (<see cref="ScenarioContext.Record"/>): the runner records nothing more.</summary>
    public static Response Recorded { get; } = new(true, RequestSample.OkStatus, null, null, null) { IsRecorded = true };

    internal bool IsRecorded { get; private init; }

    /// <summary>A response carrying a complete measurement (status and ok taken from it).</summary>
    public static Response From(RequestSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return new(sample.Ok, sample.Status, sample.SizeBytes, sample.CustomLatency, sample);
    }
}
