using System.Diagnostics;
using System.Globalization;

namespace MockServe.Benchmarks.Streaming.Measurement;

/// <summary>A process's CPU time (user + system) and resident set at one moment.</summary>
internal readonly record struct ProcessSample(double CpuSeconds, long RssKb);

/// <summary>
/// Reads another process's CPU time and RSS from /proc (Linux only): the server under test is a separate process, so
/// its own counters are out of reach and /proc is the cheapest outside view that includes every thread.
/// </summary>
internal sealed class ProcessSampler
{
    private readonly int _pid;
    private readonly double _clockTicksPerSecond;

    public ProcessSampler(int pid)
    {
        _pid = pid;
        _clockTicksPerSecond = ClockTicksPerSecond();
    }

    public ProcessSample Sample()
    {
        // Fields after the command name, which is in parentheses and may itself hold spaces or parentheses:
        // field 3 (state) comes first, so utime (field 14) and stime (field 15) are at 11 and 12 (proc(5)).
        string stat = File.ReadAllText($"/proc/{_pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return new ProcessSample(ticks / _clockTicksPerSecond, RssKb());
    }

    private long RssKb()
    {
        foreach (string line in File.ReadLines($"/proc/{_pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{_pid}/status has no VmRSS line");
    }

    /// <summary>
    /// Seconds all CPUs were busy and seconds they existed, from the first line of /proc/stat (proc(5)): the client
    /// and the server share the machine with whatever else runs, and a saturated machine explains a late token.
    /// </summary>
    public (double Busy, double Total) MachineCpu()
    {
        string[] fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // cpu user nice system idle iowait irq softirq steal ...: idle and iowait are the idle time.
        long total = fields.Skip(1).Take(8).Sum(f => long.Parse(f, CultureInfo.InvariantCulture));
        long idle = long.Parse(fields[4], CultureInfo.InvariantCulture) + long.Parse(fields[5], CultureInfo.InvariantCulture);
        return ((total - idle) / _clockTicksPerSecond, total / _clockTicksPerSecond);
    }

    /// <summary>USER_HZ, the unit of utime and stime, as <c>getconf CLK_TCK</c> prints it.</summary>
    private static double ClockTicksPerSecond()
    {
        using var getconf = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true, UseShellExecute = false })
            ?? throw new InvalidOperationException("could not start getconf");
        string output = getconf.StandardOutput.ReadToEnd().Trim();
        getconf.WaitForExit();
        return double.Parse(output, CultureInfo.InvariantCulture);
    }
}
