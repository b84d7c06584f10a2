using System.Collections.Concurrent;
using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

using MockServe.Reliability.Harness;

namespace MockServe.Reliability.Frames;

/// <summary>
/// <c>frames</c>: seeded TCP connections to the gRPC port that speak broken HTTP/2 (<see cref="FrameFuzzer"/>). The
/// server must accept every connection, survive them all, keep serving normal calls meanwhile and afterwards, and
/// leave no request in its engine from the calls the fuzzer opened and broke.
/// </summary>
internal static class FrameFuzzSuite
{
    private const int CanaryEvery = 25;
    private static readonly TimeSpan ConnectionLimit = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var connections = ReliabilityCli.Sized<int>("--connections", "Fuzzed connections (smoke 100; full 1,000).");
        var concurrency = ReliabilityCli.Option("--concurrency", "Connections open at once.", 8);
        var lingerMs = ReliabilityCli.Option("--linger-ms", "How long a connection waits for the server's answer after its last write.", 300);
        return ReliabilityCli.Suite("frames", "Send random and mutated HTTP/2 frames on raw connections; check the server survives and still serves.",
            [connections, concurrency, lingerMs],
            async (p, run, verdict, ct) =>
            {
                int count = run.Pick(p.GetValue(connections), 100, 1_000);
                int parallel = Math.Clamp(p.GetValue(concurrency), 1, 256);
                var linger = TimeSpan.FromMilliseconds(Math.Clamp(p.GetValue(lingerMs), 0, 5_000));
                var spec = new ServerSpec(["--time-scale", "0.01", "--drain", "1s"]);
                await ReliabilityCli.WithServerAsync(run, verdict, spec, server => RunAsync(run, verdict, server, count, parallel, linger, ct), ct);
            });
    }

    private static async Task RunAsync(RunContext run, Verdict verdict, ServerProcess server, int count, int parallel, TimeSpan linger, CancellationToken ct)
    {
        var time = run.Time;
        var connections = new KindTally();
        var canaryFailures = new ConcurrentQueue<string>();
        int canaries = 0;
        long begun = time.GetTimestamp();
        string authority = $"127.0.0.1:{server.Port}";
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct }, async (i, token) =>
        {
            var script = FrameFuzzer.Next(run.NewRandom(i), authority);
            string outcome = await ConnectionAsync(server.Port, script, linger, time, token);
            connections.Add(script.Kind, outcome);
            if (i % CanaryEvery == CanaryEvery - 1)
            {
                Interlocked.Increment(ref canaries);
                var (ok, detail) = await Canary.TryAsync(server, time, token);
                if (!ok)
                {
                    canaryFailures.Enqueue($"after connection {i}: {detail}");
                }
            }
        });

        await run.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{count:N0} connections, {parallel} at a time, in {time.GetElapsedTime(begun).TotalSeconds:0.0} s; how each ended:"));
        await connections.PrintAsync(run.Output);
        await run.Output.WriteLineAsync($"all: {connections.Total.Summary()}");
        verdict.Check("every connection was accepted", connections.Total[ConnectFailed] == 0, $"{connections.Total[ConnectFailed]:N0} of {count:N0} could not connect");
        verdict.CheckAlive(server);
        verdict.Check("normal calls succeeded during the fuzzing", canaryFailures.IsEmpty,
            canaryFailures.IsEmpty ? $"{canaries} of {canaries}, one per {CanaryEvery} connections" : string.Join("; ", canaryFailures));
        await Canary.CheckAsync(server, verdict, time, ct);
        if (!server.HasExited)
        {
            // The calls the fuzzer opened have no session: nothing may hold KV once they are gone.
            var ledger = new Ledger(server, time);
            await ledger.CheckIdleAsync(verdict, ct);
            await ledger.CheckZeroAsync(verdict, ct);
        }
    }

    private const string ConnectFailed = "connect-failed";

    /// <summary>
    /// Runs one script and says how the connection ended: the server sent GOAWAY, closed or reset it, or it was still
    /// open when this side closed it after <paramref name="linger"/>.
    /// </summary>
    private static async Task<string> ConnectionAsync(int port, FrameScript script, TimeSpan linger, TimeProvider time, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(ConnectionLimit);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), limit.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return ConnectFailed;
        }

        var reader = ReadAsync(socket, limit.Token);
        foreach (byte[] chunk in script.Chunks)
        {
            try
            {
                await socket.SendAsync(chunk, SocketFlags.None, limit.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                break; // the server closed on us: what it sent is in the reader's result
            }
        }

        string ending;
        try
        {
            ending = await reader.WaitAsync(linger, time, limit.Token);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            ending = "open-at-our-close";
        }

        if (script.Abort)
        {
            socket.LingerState = new LingerOption(true, 0);
        }

        socket.Close();
        await limit.CancelAsync();
        try
        {
            await reader;
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // Closed by this side after the ending was decided.
        }

        return ending;
    }

    /// <summary>Reads until the server closes, noting whether a GOAWAY frame came first (the server's side of the preface is a frame too).</summary>
    private static async Task<string> ReadAsync(Socket socket, CancellationToken ct)
    {
        byte[] buffer = new byte[16 * 1024];
        var pending = new List<byte>();
        bool goAway = false;
        bool parsing = true;
        try
        {
            while (true)
            {
                int read = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
                if (read == 0)
                {
                    return goAway ? "goaway-then-closed" : "closed";
                }

                // Frame headers only, to spot GOAWAY; a payload over 64 KiB ends the parsing (nothing else is needed).
                if (!parsing)
                {
                    continue;
                }

                pending.AddRange(buffer.AsSpan(0, read));
                while (pending.Count >= 9)
                {
                    int length = (pending[0] << 16) | (pending[1] << 8) | pending[2];
                    goAway |= pending[3] == Http2Frames.GoAway;
                    if (length > 65_536)
                    {
                        parsing = false;
                        break;
                    }

                    if (pending.Count < 9 + length)
                    {
                        break;
                    }

                    pending.RemoveRange(0, 9 + length);
                }
            }
        }
        catch (SocketException)
        {
            return goAway ? "goaway-then-reset" : "reset";
        }
    }
}
