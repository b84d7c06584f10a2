using System.Globalization;
using System.Text;

using Google.Protobuf.WellKnownTypes;

using Grpc.Core;

using MockServe.Contracts.V1;

namespace MockServe.Benchmarks.Streaming.Baseline;

/// <summary>
/// Generate with the mock's message shape and nothing behind it: each tick's token goes out as one chunk (or the
/// backlog as one chunk, if the writer fell behind, as the mock does), then one complete. Other RPCs are left
/// unimplemented; the client reads UNIMPLEMENTED from GetServerInfo as "the server is up".
/// </summary>
internal sealed class BaselineInferenceService(StepTicker ticker) : InferenceService.InferenceServiceBase
{
    private const long DefaultMaxTokens = 256;
    private const long MaxTokensLimit = 131_072;
    private const long FirstTokenId = 1000;

    // A fixed vocabulary: the benchmark measures streaming, not text generation.
    private static readonly string[] Words =
    [
        " the", " system", " can", " so", " model", " token", " stream", " server", " data", " time", " of", " and",
        " a", " to", " in", " is", " that", " for", " it", " with", " as", " on", " by", " at",
    ];

    private static long _nextRequestId;

    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateResponse> responseStream, ServerCallContext context)
    {
        var time = ticker.Time;
        long arrival = time.GetTimestamp();
        long maxTokens = request.HasMaxTokens ? request.MaxTokens : DefaultMaxTokens;
        if (maxTokens is < 1 or > MaxTokensLimit)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"max_tokens: must be between 1 and {MaxTokensLimit}, got {maxTokens}"));
        }

        string requestId = request.RequestId.Length > 0
            ? request.RequestId
            : string.Create(CultureInfo.InvariantCulture, $"bl-{Interlocked.Increment(ref _nextRequestId)}");
        var stream = new BaselineStream(arrival, maxTokens);
        var ct = context.CancellationToken;
        using var cancel = ct.Register(static s => ((BaselineStream)s!).Cancel(), stream);
        ticker.Join(stream);

        var reader = stream.Tokens;
        var text = new StringBuilder();
        long sent = 0;
        long first = 0;
        long last = 0;
        while (await reader.WaitToReadAsync(ct))
        {
            var chunk = new TokenChunk();
            while (reader.TryRead(out long due))
            {
                int word = (int)(sent % Words.Length);
                chunk.TokenIds.Add(FirstTokenId + word);
                text.Append(Words[word]);
                chunk.TokenOffsets.Add(ToDuration(time, due - arrival));
                first = sent == 0 ? due : first;
                last = due;
                sent++;
            }

            chunk.Text = text.ToString();
            text.Clear();
            chunk.CompletionTokens = sent;
            await responseStream.WriteAsync(new GenerateResponse { RequestId = requestId, Chunk = chunk }, ct);
        }

        if (sent < maxTokens)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, $"request {requestId} ended after {sent} of {maxTokens} tokens"));
        }

        var ttft = ToDuration(time, first - arrival);
        var complete = new GenerateComplete
        {
            FinishReason = FinishReason.Length,
            Usage = new Usage
            {
                PromptTokens = request.PromptCase == GenerateRequest.PromptOneofCase.PromptTokens ? request.PromptTokens : 0,
                CompletionTokens = sent,
            },
            Timing = new Timing
            {
                TimeToFirstToken = ttft,
                Queue = new Duration(),
                SwapIn = new Duration(),
                Prefill = ttft,
                Decode = ToDuration(time, last - first),
                CacheState = CacheState.New,
                EndToEnd = ToDuration(time, last - arrival),
            },
        };
        await responseStream.WriteAsync(new GenerateResponse { RequestId = requestId, Complete = complete }, ct);
    }

    /// <summary>A timestamp difference as a Duration to the nanosecond, as the mock writes model time.</summary>
    private static Duration ToDuration(TimeProvider time, long ticks)
    {
        long nanos = (long)Math.Round(Math.Max(0, ticks) * (1e9 / time.TimestampFrequency));
        return new Duration { Seconds = nanos / 1_000_000_000, Nanos = (int)(nanos % 1_000_000_000) };
    }
}
