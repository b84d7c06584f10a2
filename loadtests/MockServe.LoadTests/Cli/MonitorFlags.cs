using System.CommandLine;
using System.Net;

using MockServe.LoadTests.Live;
using MockServe.LoadTests.Running;
using MockServe.LoadTests.Telemetry;

using Prometheus;

using Spectre.Console;

namespace MockServe.LoadTests.Cli;

/// <summary><c>--progress</c>, <c>--metrics-port</c> and <c>--metrics-host</c> of <c>run</c>: which monitors watch the run.</summary>
internal static class MonitorFlags
{
    private const string Auto = "auto";
    private const string Plain = "plain";
    private const string Live = "live";
    private const string None = "none";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public static Option<string> ProgressOption() => new("--progress")
    {
        Description = "Progress display: live (a table redrawn on a terminal), plain (a line a scenario a second, for logs), none; auto: live on a terminal, else plain.",
        DefaultValueFactory = _ => Auto,
    };

    public static Option<int> MetricsPortOption() => new("--metrics-port")
    {
        Description = "Serve the driver's own metrics (mockserve_client_*) at http://HOST:PORT/metrics during the run; 0 turns them off.",
        DefaultValueFactory = _ => ClientMetricsServer.DefaultPort,
    };

    public static Option<string> MetricsHostOption() => new("--metrics-host")
    {
        Description = "IP address the driver's metrics listen on: 127.0.0.1 (loopback, the default) or 0.0.0.0 where Prometheus scrapes from another host or container.",
        HelpName = "IP",
        DefaultValueFactory = _ => ClientMetricsServer.DefaultHost,
    };

    /// <summary>Adds a problem for each flag out of its range, named as the user typed it.</summary>
    public static void Check(string progress, int metricsPort, string metricsHost, List<string> problems)
    {
        if (progress is not (Auto or Plain or Live or None))
        {
            problems.Add($"--progress is \"{progress}\": expected auto, plain, live or none");
        }

        if (metricsPort is < 0 or > 65_535)
        {
            problems.Add($"--metrics-port is \"{metricsPort}\": must be 0 (off) or 1 to 65535");
        }

        if (!IPAddress.TryParse(metricsHost, out _))
        {
            problems.Add($"--metrics-host is \"{metricsHost}\": expected an IP address such as 127.0.0.1 or 0.0.0.0");
        }
    }

    /// <summary>
    /// Serves <paramref name="registry"/> on <paramref name="port"/>; null when 0, or when the port is taken: the run goes
    /// on without its metrics rather than fail over a monitor (several runs on one machine all default to one port).
    /// </summary>
    public static ClientMetricsServer? StartMetrics(int port, CollectorRegistry registry, TextWriter error, string host = ClientMetricsServer.DefaultHost)
    {
        if (port == 0)
        {
            return null;
        }

        try
        {
            return ClientMetricsServer.Start(IPAddress.Parse(host), port, registry);
        }
        catch (IOException ex)
        {
            error.WriteLine($"warning: --metrics-port: cannot listen on {host}:{port} ({ex.Message}); client metrics are off for this run");
            return null;
        }
    }

    /// <summary>The progress display the flag asks for, then the metrics when they are served.</summary>
    public static IReadOnlyList<IRunMonitor> Monitors(string progress, TextWriter output, CollectorRegistry? metrics)
    {
        var monitors = new List<IRunMonitor>();

        // Only the process's own console redraws in place; a redirected one, or any other writer, is a log.
        bool terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        if (progress == Live || (progress == Auto && terminal))
        {
            monitors.Add(new LiveTable(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), Interval));
        }
        else if (progress != None)
        {
            monitors.Add(new PlainProgress(output, Interval));
        }

        if (metrics is not null)
        {
            monitors.Add(new ClientMetrics(ClientMetrics.CreateFactory(metrics), Interval));
        }

        return monitors;
    }
}
