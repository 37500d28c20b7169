using System.Globalization;

namespace Candor.TestSupport;

/// <summary>
/// A process's resident memory as Linux reports it in <c>/proc/PID/status</c>: <c>VmRSS</c> (now)
/// and <c>VmHWM</c> (the kernel's high-water mark since the process started, so a short peak between
/// two samples is not missed).
/// </summary>
internal readonly record struct ResidentMemory(long CurrentBytes, long PeakBytes)
{
    public double CurrentMegabytes => CurrentBytes / 1048576.0;

    public double PeakMegabytes => PeakBytes / 1048576.0;

    /// <summary>The process's memory, or <see langword="null"/> when it has exited (or this is not Linux).</summary>
    public static ResidentMemory? Read(int processId)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/status");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        long? current = null, peak = null;
        foreach (var line in lines)
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                current = Kilobytes(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line);
            }
        }

        return current is { } c && peak is { } p ? new ResidentMemory(c * 1024, p * 1024) : null;
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{CurrentMegabytes:F1} MB resident (peak {PeakMegabytes:F1} MB)");

    // "VmRSS:	  123456 kB"
    private static long Kilobytes(string line) =>
        long.Parse(line.AsSpan(line.IndexOf(':', StringComparison.Ordinal) + 1).Trim().TrimEnd("kB").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);
}
