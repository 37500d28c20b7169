using Candor.Collector.Storage;

namespace Candor.Collector.DataRights;

/// <summary>
/// Takes the tombstones other instances kept (PostgreSQL, where several collectors share one
/// database) into this one's <see cref="ForgottenInstalls"/> every <see cref="Interval"/>. The stores
/// check tombstones at write time as well, so this only makes the 410 <c>install_forgotten</c> answer
/// prompt on every instance; a failed read is logged and tried again.
/// </summary>
internal sealed partial class TombstoneRefresher(IDataRights store, ForgottenInstalls forgotten, TimeProvider time, ILogger<TombstoneRefresher> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Interval, time, stoppingToken);
                await RefreshAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    /// <summary>Adds every tombstone the store keeps; returns whether the store answered.</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var tombstone in await store.ReadTombstonesAsync(cancellationToken))
            {
                forgotten.Add(tombstone);
            }

            return true;
        }
#pragma warning disable CA1031 // Whatever the store threw, the next refresh tries again; the host runs on.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            LogFailed(logger, ex);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the forgotten installs' tombstones; trying again in 30 seconds")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
