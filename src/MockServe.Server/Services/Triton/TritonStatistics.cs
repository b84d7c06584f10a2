using MockServe.Contracts.Inference;
using MockServe.Contracts.V1;

namespace MockServe.Server.Services.Triton;

/// <summary>
/// The served model's cumulative statistics, as Triton keeps them per model version and ModelStatistics reports
/// them. Durations are the engine's model time: queue is the wait for admission, compute_input the swap-in and
/// prefill that put the prompt's KV in HBM, compute_infer the decode; their sum is the request's success duration.
/// compute_output is counted with no time: detokenising is not modelled.
/// </summary>
internal sealed class TritonStatistics
{
    private readonly Lock _gate = new();
    private Sum _success, _fail, _queue, _input, _infer, _output;
    private ulong _lastInferenceMs;

    /// <summary>One request that finished, with its model-time breakdown.</summary>
    public void Succeeded(Timing timing, DateTimeOffset now)
    {
        lock (_gate)
        {
            _success.Add(timing.EndToEnd);
            _queue.Add(timing.Queue);
            _input.Add(Nanoseconds(timing.SwapIn) + Nanoseconds(timing.Prefill));
            _infer.Add(timing.Decode);
            _output.Add(0);
            _lastInferenceMs = (ulong)now.ToUnixTimeMilliseconds();
        }
    }

    /// <summary>One request the model refused or that failed after <paramref name="modelSeconds"/>.</summary>
    public void Failed(double modelSeconds)
    {
        lock (_gate)
        {
            _fail.Add((ulong)Math.Max(0, Math.Round(modelSeconds * 1e9)));
        }
    }

    public ModelStatistics Snapshot(string name, string version)
    {
        lock (_gate)
        {
            return new ModelStatistics
            {
                Name = name,
                Version = version,
                LastInference = _lastInferenceMs,
                // One request is one inference, and one execution: the engine batches steps, not requests.
                InferenceCount = _success.Count,
                ExecutionCount = _success.Count,
                InferenceStats = new InferStatistics
                {
                    Success = _success.ToProto(),
                    Fail = _fail.ToProto(),
                    Queue = _queue.ToProto(),
                    ComputeInput = _input.ToProto(),
                    ComputeInfer = _infer.ToProto(),
                    ComputeOutput = _output.ToProto(),
                },
            };
        }
    }

    private static ulong Nanoseconds(Google.Protobuf.WellKnownTypes.Duration? d) =>
        d is null ? 0 : (ulong)Math.Max(0, (d.Seconds * 1_000_000_000L) + d.Nanos);

    private struct Sum
    {
        public ulong Count;
        public ulong Ns;

        public void Add(Google.Protobuf.WellKnownTypes.Duration? d) => Add(Nanoseconds(d));

        public void Add(ulong ns)
        {
            Count++;
            Ns += ns;
        }

        public readonly StatisticDuration ToProto() => new() { Count = Count, Ns = Ns };
    }
}
