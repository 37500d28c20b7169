using System.Runtime;
using System.Runtime.InteropServices;

namespace Candor.Collector.Operations;

/// <summary>
/// Gives memory back to the operating system once a burst is over. After abusive traffic (thousands
/// of megabyte bodies) the GC keeps the segments it grew into, and glibc keeps the native heap's
/// freed pages, so an idle collector stayed at 800 MB resident although little of it was in use:
/// nothing allocates when idle, so no collection ever runs to shrink it. Every
/// <see cref="CollectorOptions.MemoryTrimInterval"/>, when the GC holds more than
/// <see cref="CollectorOptions.MemoryTrimAboveBytes"/> committed, this runs one aggressive
/// collection (which decommits what is free) and, on Linux, <c>malloc_trim</c>. The check costs a
/// read of GC counters; a trim, a blocking full collection of a small live heap (milliseconds).
/// </summary>
internal sealed partial class MemoryTrimmer(CollectorOptions options, TimeProvider time, ILogger<MemoryTrimmer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.MemoryTrimInterval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.MemoryTrimInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                TrimIfAbove(options.MemoryTrimAboveBytes);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>Trims when the GC's committed memory is above <paramref name="bound"/>; returns whether it did.</summary>
    internal bool TrimIfAbove(long bound)
    {
        var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        if (committed <= bound)
        {
            return false;
        }

        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = MallocTrim(0);
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                // Not glibc (musl, for one): its allocator returns memory by itself.
            }
        }

        CollectorMetrics.MemoryTrims.Inc();
        LogTrimmed(logger, committed >> 20, GC.GetGCMemoryInfo().TotalCommittedBytes >> 20);
        return true;
    }

#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code for one blittable call.
    [DllImport("libc", EntryPoint = "malloc_trim")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallocTrim(nuint pad);
#pragma warning restore SYSLIB1054

    [LoggerMessage(Level = LogLevel.Information, Message = "Gave memory back after a burst: GC committed {BeforeMb} MB, now {AfterMb} MB")]
    private static partial void LogTrimmed(ILogger logger, long beforeMb, long afterMb);
}
