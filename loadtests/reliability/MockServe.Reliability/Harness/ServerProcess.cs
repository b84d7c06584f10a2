using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

using MockServe.Benchmarks.Streaming.Measurement;

namespace MockServe.Reliability.Harness;

/// <summary>How a suite wants its server started: flags after <c>serve</c>, and environment variables.</summary>
/// <param name="Flags">Flags of <c>mockserve serve</c> besides the ports, which the harness picks.</param>
/// <param name="Environment">
/// Settings passed as MockServe__Section__Key variables: a server that does not know a key ignores it, so a suite can
/// set a limit that only newer servers have (Engine:MaxSessions) and check it either way.
/// </param>
internal sealed record ServerSpec(IReadOnlyList<string> Flags, IReadOnlyDictionary<string, string>? Environment = null);

/// <summary>
/// A <c>mockserve serve</c> process on free loopback ports: started, waited on until readiness reports SERVING, and
/// always stopped at the end (SIGTERM, then SIGKILL). The suites treat it as a black box: gRPC, /metrics and /proc.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly object _logGate = new();
    private readonly ProcessSampler _sampler;
    private readonly TimeProvider _time;
    private readonly string _logPath;
    private readonly bool _keepLog;
    private long _exitedAt;

    private ServerProcess(Process process, StreamWriter log, string logPath, bool keepLog, int port, int metricsPort, TimeProvider time)
    {
        _process = process;
        _log = log;
        _logPath = logPath;
        _keepLog = keepLog;
        _time = time;
        Port = port;
        MetricsPort = metricsPort;
        _sampler = new ProcessSampler(process.Id);
        Channel = GrpcChannel.ForAddress(Target, new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
    }

    public int Pid => _process.Id;

    public int Port { get; }

    public int MetricsPort { get; }

    public Uri Target => new($"http://127.0.0.1:{Port}");

    public Uri MetricsUrl => new($"http://127.0.0.1:{MetricsPort}/metrics");

    /// <summary>A channel for the suite's own control calls (GetServerInfo, CloseSession, canaries).</summary>
    public GrpcChannel Channel { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Where the server's console output goes; kept after the run when it failed or --keep-logs is set.</summary>
    public string LogPath => _logPath;

    /// <summary>Lines the server logged at error level or above ("fail:" and "crit:" in the simple console format).</summary>
    public int ErrorLines { get; private set; }

    public static async Task<ServerProcess> StartAsync(RunContext run, ServerSpec spec, CancellationToken ct)
    {
        if (!File.Exists(run.ServerDll))
        {
            throw new FileNotFoundException($"no server at {run.ServerDll}: build it with `dotnet build src/MockServe.Server -c Release` or pass --server-dll");
        }

        int port = FreePort();
        int metricsPort = FreePort();
        while (metricsPort == port)
        {
            metricsPort = FreePort();
        }

        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { run.ServerDll, "serve", "--port", Invariant(port), "--metrics-port", Invariant(metricsPort), "--http-port", "0" }.Concat(spec.Flags))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in spec.Environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        string logPath = Path.Combine(Path.GetTempPath(), $"mockserve-reliability-{run.Suite}-{Environment.ProcessId}-{port}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        var server = new ServerProcess(process, log, logPath, run.KeepLogs, port, metricsPort, run.Time);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => Interlocked.CompareExchange(ref server._exitedAt, run.Time.GetTimestamp(), 0);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await run.Output.WriteLineAsync($"server: pid {process.Id}, gRPC 127.0.0.1:{port}, metrics {metricsPort}, flags: {string.Join(' ', spec.Flags)}"
            + (spec.Environment is { Count: > 0 } env ? $", env: {string.Join(' ', env.Select(e => $"{e.Key}={e.Value}"))}" : ""));
        try
        {
            await server.WaitReadyAsync(ct);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Resident set of the server process in KiB, from /proc/PID/status.</summary>
    public long RssKb() => _sampler.Sample().RssKb;

    /// <summary>Sends SIGTERM, as a process manager stopping the server would.</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Invariant(_process.Id)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("could not run kill");
        kill.WaitForExit();
    }

    /// <summary>Waits at most <paramref name="timeout"/> for the process to exit; the moment it exited (a timestamp of the run's clock), or null.</summary>
    public async Task<long?> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout, _time);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        long at = Interlocked.Read(ref _exitedAt);
        return at != 0 ? at : _time.GetTimestamp();
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines of the server's log, for a failure report.</summary>
    public string LogTail(int lines)
    {
        lock (_logGate)
        {
            _log.Flush();
        }

        using var stream = new FileStream(_logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var tail = new Queue<string>();
        while (reader.ReadLine() is { } line)
        {
            tail.Enqueue(line);
            if (tail.Count > lines)
            {
                tail.Dequeue();
            }
        }

        return string.Join(Environment.NewLine, tail);
    }

    /// <summary>Stops the server if it still runs (SIGTERM, then SIGKILL after a bound) and removes its log unless asked to keep it.</summary>
    public async ValueTask DisposeAsync() => await StopAsync(keepLog: _keepLog);

    public async Task StopAsync(bool keepLog)
    {
        Channel.Dispose();
        if (!_process.HasExited)
        {
            try
            {
                Terminate();
            }
            catch (InvalidOperationException)
            {
                // Already gone between the check and the signal.
            }

            if (await WaitForExitAsync(StopTimeout) is null)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.WaitForExit();
        lock (_logGate)
        {
            _log.Dispose();
        }

        _process.Dispose();
        if (!keepLog)
        {
            File.Delete(_logPath);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logGate)
        {
            if (line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal))
            {
                ErrorLines++;
            }

            _log.WriteLine(line);
        }
    }

    private async Task WaitReadyAsync(CancellationToken ct)
    {
        var health = new Health.HealthClient(Channel);
        var request = new HealthCheckRequest { Service = "mockserve.v1.InferenceService" };
        long start = _time.GetTimestamp();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the server exited with code {_process.ExitCode} before it was ready:{Environment.NewLine}{LogTail(20)}");
            }

            try
            {
                var reply = await health.CheckAsync(request, deadline: _time.GetUtcNow().UtcDateTime.AddSeconds(2), cancellationToken: ct);
                if (reply.Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    return;
                }
            }
            catch (RpcException)
            {
                // Not listening yet.
            }

            if (_time.GetElapsedTime(start) > ReadyTimeout)
            {
                throw new TimeoutException($"the server was not ready within {ReadyTimeout.TotalSeconds} s:{Environment.NewLine}{LogTail(20)}");
            }

            await Task.Delay(100, ct);
        }
    }

    /// <summary>A loopback port nothing listens on now (the kernel's pick for port 0).</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Invariant(int n) => n.ToString(CultureInfo.InvariantCulture);
}
