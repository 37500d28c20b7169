using System.Diagnostics;
using System.Globalization;

/// <summary>Samples the collector's resident memory once a second (Linux /proc).</summary>
internal sealed class MemorySampler : IDisposable
{
    private readonly int? _pid;
    private readonly Timer? _timer;

    public MemorySampler(int? pid)
    {
        _pid = pid;
        if (pid is not null)
        {
            _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        }
    }

    public double PeakMb { get; private set; }

    public void Sample()
    {
        if (_pid is null)
        {
            return;
        }

        try
        {
            foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                    PeakMb = Math.Max(PeakMb, kb / 1024);
                }
            }
        }
        catch (IOException)
        {
        }
    }

    public void Dispose() => _timer?.Dispose();
}

/// <summary>
/// CPU time (user + system, in microseconds) of the collector, of every PostgreSQL server process
/// on the machine and of this generator. Throughput on a shared 2-core machine moves by 10 % from
/// run to run; the CPU each event costs moves much less, so a change to the ingest path can be
/// judged by it. Read from /proc (Linux); zero where it cannot be read.
/// </summary>
internal readonly record struct CpuTime(double Collector, double Postgres, double Generator)
{
    private const double MicrosecondsPerTick = 1_000_000.0 / 100; // USER_HZ is 100 on Linux

    public static CpuTime operator -(CpuTime a, CpuTime b) => new(a.Collector - b.Collector, a.Postgres - b.Postgres, a.Generator - b.Generator);

    public static CpuTime Sample(int? collectorPid)
    {
        var postgres = 0.0;
        if (Directory.Exists("/proc"))
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && Ticks(pid, "postgres") is { } ticks)
                {
                    postgres += ticks;
                }
            }
        }

        var collector = collectorPid is { } c ? Ticks(c, null) ?? 0 : 0;
        return new CpuTime(collector * MicrosecondsPerTick, postgres * MicrosecondsPerTick, Process.GetCurrentProcess().TotalProcessorTime.TotalMicroseconds);
    }

    public CpuTime PerEvent(long events) => events == 0 ? default : new(Collector / events, Postgres / events, Generator / events);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Collector:F1} / {(Postgres > 0 ? Postgres.ToString("F1", CultureInfo.InvariantCulture) : "-")} / {Generator:F1}");

    // utime + stime from /proc/PID/stat; when a name is given, only for a process of that name.
    private static long? Ticks(int pid, string? name)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var open = stat.IndexOf('(');
            var close = stat.LastIndexOf(')');
            if (open < 0 || close < open || (name is not null && stat[(open + 1)..close] != name))
            {
                return null;
            }

            // After "pid (comm) ", field 3 is the state; utime and stime are fields 14 and 15.
            var fields = stat[(close + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
