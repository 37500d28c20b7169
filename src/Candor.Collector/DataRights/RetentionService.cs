using Candor.Collector.Operations;

using Candor.Collector.Storage;

namespace Candor.Collector.DataRights;

/// <summary>
/// Deletes what has expired, every <see cref="CollectorOptions.RetentionInterval"/> (the first pass
/// <see cref="FirstPassDelay"/> after start): per product, events whose time is before UTC midnight
/// <c>RetentionDays</c> ago and quarantined events received before midnight <c>QuarantineRetentionDays</c>
/// ago. The products are the configured ones; with none configured (a development key for any
/// product), every product the store holds, with the defaults. The clock is the injected
/// <see cref="TimeProvider"/>: the stores take their cut-offs from here and read none themselves. A
/// store that fails is logged and counted; the next product, and the next pass, still run.
/// </summary>
internal sealed partial class RetentionService(
    IDataRights store, Func<CancellationToken, Task<IReadOnlyList<string>>> storedProducts, CollectorOptions options, TimeProvider time,
    ILogger<RetentionService> logger) : BackgroundService
{
    /// <summary>How long after start the first pass runs (or the interval, when shorter): soon, but
    /// out of the way of start-up work such as the DuckDB store's journal replay.</summary>
    public static readonly TimeSpan FirstPassDelay = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.RetentionInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        var delay = interval < FirstPassDelay ? interval : FirstPassDelay;
        try
        {
            while (true)
            {
                await Task.Delay(delay, time, stoppingToken);
                await RunOnceAsync(stoppingToken);
                delay = interval;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    /// <summary>One pass over every product; returns how many products failed.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<(string Product, int EventDays, int QuarantineDays)> products;
        try
        {
            products = await ProductsAsync(cancellationToken);
        }
#pragma warning disable CA1031 // Whatever the store threw, retention tries again at the next interval; the host runs on.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            CollectorMetrics.RetentionFailures.Inc();
            LogListFailed(logger, ex);
            return 1;
        }

        // Whole days: the same cut-off all day, so PostgreSQL can drop whole daily partitions.
        var today = new DateTimeOffset(time.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero);
        var failures = 0;
        foreach (var (product, eventDays, quarantineDays) in products)
        {
            var eventsBefore = today.AddDays(-eventDays);
            var quarantineBefore = today.AddDays(-quarantineDays);
            try
            {
                var deleted = await store.DeleteExpiredAsync(product, eventsBefore, quarantineBefore, cancellationToken);
                CollectorMetrics.RetentionDeleted.WithLabels("events").Inc(deleted.Events);
                CollectorMetrics.RetentionDeleted.WithLabels("quarantine").Inc(deleted.Quarantine);
                if (deleted.Events + deleted.Quarantine > 0)
                {
                    LogDeleted(logger, product, deleted.Events, eventsBefore, deleted.Quarantine, quarantineBefore);
                }
            }
#pragma warning disable CA1031 // As above: logged, counted, tried again next time.
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                failures++;
                CollectorMetrics.RetentionFailures.Inc();
                LogFailed(logger, ex, product);
            }
        }

        return failures;
    }

    private async Task<IReadOnlyList<(string, int, int)>> ProductsAsync(CancellationToken cancellationToken) =>
        options.Products.Count > 0
            ? [.. options.Products.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value.RetentionDays, p.Value.QuarantineRetentionDays))]
            : [.. (await storedProducts(cancellationToken)).Select(p => (p, ProductOptions.DefaultRetentionDays, ProductOptions.DefaultQuarantineRetentionDays))];

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Retention for {Product}: deleted {Events} events from before {EventsBefore:yyyy-MM-dd} and {Quarantine} quarantined events received before {QuarantineBefore:yyyy-MM-dd}")]
    private static partial void LogDeleted(ILogger logger, string product, long events, DateTimeOffset eventsBefore, long quarantine, DateTimeOffset quarantineBefore);

    [LoggerMessage(Level = LogLevel.Error, Message = "Retention for {Product} failed; it is tried again at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception, string product);

    [LoggerMessage(Level = LogLevel.Error, Message = "Retention could not list the stored products; it is tried again at the next interval")]
    private static partial void LogListFailed(ILogger logger, Exception exception);
}
