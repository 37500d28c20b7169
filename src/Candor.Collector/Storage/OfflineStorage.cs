using Candor.Collector.Analytics;
using Candor.Collector.Storage.DuckDb;
using Candor.Collector.Storage.Postgres;

namespace Candor.Collector.Storage;

/// <summary>
/// Storage opened outside a running collector (<c>candor report</c>, <c>candor export</c>), after
/// whatever the engine needs first: a DuckDB file gets what the collector's own open does (a journal a
/// crash left is applied; a file from an older collector is upgraded); PostgreSQL needs nothing.
/// </summary>
internal static class OfflineStorage
{
    /// <summary>The analytics of the PostgreSQL database at <paramref name="connectionString"/>, or else
    /// of the DuckDB file at <paramref name="databasePath"/>.</summary>
    public static Task<IAnalyticsStore> OpenAnalyticsAsync(string? connectionString, string? databasePath, CancellationToken cancellationToken) =>
        connectionString is not null
            ? Task.FromResult(PostgresStorage.OpenAnalyticsOffline(connectionString))
            : DuckDbStorage.OpenAnalyticsOfflineAsync(databasePath ?? throw new ArgumentNullException(nameof(databasePath)), cancellationToken);

    /// <summary>Makes the DuckDB file at <paramref name="databasePath"/> complete for reading it directly:
    /// acknowledged events a crashed collector left in its journal are stored first, as its next start would.</summary>
    public static Task CompleteDuckDbFileAsync(string databasePath, CancellationToken cancellationToken) =>
        DuckDbStorage.PrepareOfflineAsync(databasePath, upgrade: false, cancellationToken);

    /// <summary>Writes the events of the DuckDB file at <paramref name="databasePath"/> that
    /// <paramref name="export"/> selects (after completing the file as above); returns how many.
    /// <paramref name="progress"/> hears the percentage done while a long export runs.</summary>
    /// <exception cref="ExportFailedException">The engine could not write the export.</exception>
    public static Task<long> ExportDuckDbFileAsync(string databasePath, EventExport export, Action<int> progress, CancellationToken cancellationToken) =>
        DuckDbExport.WriteAsync(databasePath, export, progress, cancellationToken);
}
