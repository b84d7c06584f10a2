using Grpc.Core;
using Grpc.Net.Client;

using HdrHistogram;

using MockServe.Benchmarks.Streaming.Measurement;
using MockServe.Contracts.V1;

namespace MockServe.Benchmarks.Streaming.Load;

/// <summary>
/// The closed loop: N users, each with one Generate stream open at a time, starting the next as soon as the last
/// completes. Every token's lateness is its receive time minus (the request's send time + its token offset x time
/// scale), so a server that sends a token after the moment it itself stamped on it shows up, whatever the cause.
/// </summary>
internal sealed class LoadRunner(LoadOptions options, TimeProvider time)
{
    // An hour in microseconds: anything later is a hung stream, not a latency.
    private const long MaxLatenessUs = 3_600_000_000;
    private static readonly TimeSpan ErrorPause = TimeSpan.FromMilliseconds(50);

    private readonly LongConcurrentHistogram _lateness = new(1, MaxLatenessUs, 3);
    private long _early;
    private int _open;

    public async Task<LoadReport> RunAsync(CancellationToken ct)
    {
        int connections = (options.Streams + options.StreamsPerConnection - 1) / options.StreamsPerConnection;
        var channels = Enumerable.Range(0, connections).Select(_ => Connections.OneConnection(options.Target)).ToArray();
        try
        {
            return await RunAsync(channels, ct);
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    private async Task<LoadReport> RunAsync(GrpcChannel[] channels, CancellationToken ct)
    {
        var clients = channels.Select(c => new InferenceService.InferenceServiceClient(c)).ToArray();
        await Connections.WaitReadyAsync(clients[0], time, options.ReadyTimeout, ct);
        var sampler = options.ServerPid is { } pid ? new ProcessSampler(pid) : null;
        var self = new ProcessSampler(Environment.ProcessId);
        await Task.Delay(options.IdleSettle, time, ct);
        var idle = sampler?.Sample();

        var request = new GenerateRequest { PromptTokens = options.PromptTokens, MaxTokens = options.MaxTokens, IgnoreEos = options.IgnoreEos };
        long first = time.GetTimestamp();
        long warmupEnd = first + Ticks(options.Warmup);
        long windowEnd = warmupEnd + Ticks(options.Window);
        // A safety net only: every call is cancelled at the end of the window, the deadline catches a lost cancel.
        var deadline = time.GetUtcNow().UtcDateTime + options.Warmup + options.Window + options.Grace;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var window = new Window(warmupEnd, windowEnd, deadline);
        var users = new Task<UserTally>[options.Streams];
        for (int i = 0; i < users.Length; i++)
        {
            var rampDelay = options.Ramp * i / options.Streams;
            users[i] = UserAsync(clients[i / options.StreamsPerConnection], request, rampDelay, window, stop.Token);
        }

        ProcessSample? atStart;
        ProcessSample? atEnd;
        Usage start;
        Usage end;
        int openAtStart;
        int openAtEnd;
        try
        {
            await DelayUntilAsync(warmupEnd, ct);
            atStart = sampler?.Sample();
            start = new Usage(self.Sample(), self.MachineCpu());
            openAtStart = Volatile.Read(ref _open);
            await DelayUntilAsync(windowEnd, ct);
            atEnd = sampler?.Sample();
            end = new Usage(self.Sample(), self.MachineCpu());
            openAtEnd = Volatile.Read(ref _open);
        }
        finally
        {
            await stop.CancelAsync();
        }

        var all = Task.WhenAll(users);
        try
        {
            await all.WaitAsync(options.Grace, time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // Reported below as unfinished users; their counts so far are lost, which the report says.
        }

        var total = new UserTally();
        int unfinished = 0;
        foreach (var user in users)
        {
            if (user.IsCompletedSuccessfully)
            {
                total.Add(user.Result);
            }
            else if (user.Exception is { } failed)
            {
                // A user that died of something other than a gRPC status is a bug in this client: make it loud.
                await Console.Error.WriteLineAsync($"warning: a user failed: {failed.InnerException}");
                unfinished++;
            }
            else
            {
                unfinished++;
            }
        }

        var client = new ClientUsage(
            end.Self.CpuSeconds - start.Self.CpuSeconds,
            (end.Machine.Busy - start.Machine.Busy) / (end.Machine.Total - start.Machine.Total),
            Environment.ProcessorCount);
        return Report(total, channels.Length, idle, atStart, atEnd, client, openAtStart, openAtEnd, unfinished);
    }

    private async Task<UserTally> UserAsync(
        InferenceService.InferenceServiceClient client, GenerateRequest request, TimeSpan rampDelay, Window window, CancellationToken stop)
    {
        var tally = new UserTally();
        try
        {
            await Task.Delay(rampDelay, time, stop);
            for (int n = 0; n < options.MaxRequestsPerUser && !stop.IsCancellationRequested; n++)
            {
                try
                {
                    await OneRequestAsync(client, request, window, tally, stop);
                }
                catch (RpcException ex) when (!stop.IsCancellationRequested)
                {
                    tally.Errors[ex.StatusCode] = tally.Errors.GetValueOrDefault(ex.StatusCode) + 1;
                    // A refused request (queue full, draining) must not turn the loop into a busy spin.
                    await Task.Delay(ErrorPause, time, stop);
                }
            }
        }
        catch (Exception ex) when (stop.IsCancellationRequested && ex is OperationCanceledException or RpcException)
        {
            // The end of the window cancels every call: not an error.
        }

        return tally;
    }

    private async Task OneRequestAsync(
        InferenceService.InferenceServiceClient client, GenerateRequest request, Window window, UserTally tally, CancellationToken stop)
    {
        long sent = time.GetTimestamp();
        bool measured = sent >= window.WarmupEnd;
        double ticksToUs = 1e6 / time.TimestampFrequency;
        double nanosToWallUs = options.TimeScale / 1e3;
        long previous = -1;
        using var call = client.Generate(request, deadline: window.Deadline, cancellationToken: stop);
        Interlocked.Increment(ref _open);
        try
        {
            var responses = call.ResponseStream;
            while (await responses.MoveNext(stop))
            {
                long received = time.GetTimestamp();
                var message = responses.Current;
                bool inWindow = received >= window.WarmupEnd && received < window.End;
                bool counted = measured && received < window.End;
                if (inWindow)
                {
                    tally.Messages++;
                }

                if (message.EventCase != GenerateResponse.EventOneofCase.Chunk)
                {
                    tally.Completed += inWindow ? 1 : 0;
                    continue;
                }

                var chunk = message.Chunk;
                tally.Tokens += inWindow ? chunk.TokenIds.Count : 0;
                if (!counted)
                {
                    continue;
                }

                double sinceSendUs = (received - sent) * ticksToUs;
                foreach (var offset in chunk.TokenOffsets)
                {
                    long nanos = (offset.Seconds * 1_000_000_000) + offset.Nanos;
                    Record(sinceSendUs - (nanos * nanosToWallUs));
                    if (previous < 0)
                    {
                        tally.TtftNanos += nanos;
                        tally.FirstTokens++;
                    }
                    else
                    {
                        tally.GapNanos += nanos - previous;
                        tally.Gaps++;
                    }

                    previous = nanos;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private void Record(double latenessUs)
    {
        if (latenessUs < 0)
        {
            // Received before the time the server stamped on it (plus the send): a clock or stamping bug, counted apart.
            Interlocked.Increment(ref _early);
            latenessUs = 0;
        }

        _lateness.RecordValue(Math.Min(MaxLatenessUs, (long)Math.Round(latenessUs)));
    }

    private LoadReport Report(
        UserTally total,
        int connections,
        ProcessSample? idle,
        ProcessSample? atStart,
        ProcessSample? atEnd,
        ClientUsage client,
        int openAtStart,
        int openAtEnd,
        int unfinished)
    {
        double window = options.Window.TotalSeconds;
        long count = _lateness.TotalCount;
        ServerUsage? usage = null;
        if (idle is { } i && atStart is { } a && atEnd is { } e)
        {
            double cpu = e.CpuSeconds - a.CpuSeconds;
            usage = new ServerUsage(
                options.ServerPid!.Value,
                cpu,
                total.Tokens > 0 ? cpu / total.Tokens * 1e6 : double.NaN,
                i.RssKb,
                a.RssKb,
                e.RssKb,
                (e.RssKb - i.RssKb) / (double)options.Streams);
        }

        return new LoadReport
        {
            Label = options.Label,
            Target = options.Target.ToString(),
            Streams = options.Streams,
            Connections = connections,
            PromptTokens = options.PromptTokens,
            MaxTokens = options.MaxTokens,
            IgnoreEos = options.IgnoreEos,
            TimeScale = options.TimeScale,
            WarmupSeconds = options.Warmup.TotalSeconds,
            WindowSeconds = window,
            LatenessUs = new LatenessSummary(
                count > 0 ? _lateness.GetValueAtPercentile(50) : double.NaN,
                count > 0 ? _lateness.GetValueAtPercentile(99) : double.NaN,
                count > 0 ? _lateness.GetValueAtPercentile(99.9) : double.NaN,
                count > 0 ? _lateness.GetMaxValue() : double.NaN,
                count > 0 ? _lateness.GetMean() : double.NaN,
                count,
                Interlocked.Read(ref _early)),
            Messages = total.Messages,
            Tokens = total.Tokens,
            MessagesPerSecond = total.Messages / window,
            TokensPerSecond = total.Tokens / window,
            RequestsCompleted = total.Completed,
            MeanTokenGapMs = total.Gaps > 0 ? total.GapNanos / 1e6 / total.Gaps : double.NaN,
            MeanTtftMs = total.FirstTokens > 0 ? total.TtftNanos / 1e6 / total.FirstTokens : double.NaN,
            Errors = total.Errors.OrderBy(e => e.Key).ToDictionary(e => e.Key.ToString(), e => e.Value),
            OpenStreamsAtWindowStart = openAtStart,
            OpenStreamsAtWindowEnd = openAtEnd,
            UnfinishedAfterGrace = unfinished,
            Server = usage,
            Client = client,
        };
    }

    private Task DelayUntilAsync(long timestamp, CancellationToken ct)
    {
        var wait = time.GetElapsedTime(time.GetTimestamp(), timestamp);
        return wait > TimeSpan.Zero ? Task.Delay(wait, time, ct) : Task.CompletedTask;
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * time.TimestampFrequency);

    private readonly record struct Usage(ProcessSample Self, (double Busy, double Total) Machine);

    /// <summary>Timestamps that bound the measurement, and the calls' deadline.</summary>
    private sealed record Window(long WarmupEnd, long End, DateTime Deadline);
}
