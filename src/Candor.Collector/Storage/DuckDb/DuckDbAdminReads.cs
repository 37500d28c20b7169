using System.Globalization;
using DuckDB.NET.Data;
using static Candor.Collector.Storage.DuckDb.DuckDbConnections;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>The admin API's reads and the readiness probe, on the reader's connection.</summary>
internal sealed class DuckDbAdminReads(DuckDbConnections connections)
{
    public async Task<IReadOnlyList<StoredEvent>> ReadRecentAsync(string product, int limit, CancellationToken cancellationToken) =>
        await connections.ReadAsync(reader => DuckDbNewestRows.EventsAsync(reader, product, limit, cancellationToken), cancellationToken);

    public async Task<IReadOnlyList<QuarantineRecord>> ReadQuarantineAsync(string product, int limit, CancellationToken cancellationToken) =>
        await connections.ReadAsync(reader => DuckDbNewestRows.QuarantineAsync(reader, product, limit, cancellationToken), cancellationToken);

    /// <summary>The newest events and quarantined events of one install, by arrival, at most <paramref name="limit"/> of each.</summary>
    public Task<(List<StoredEvent> Events, List<QuarantineRecord> Quarantine)> ReadInstallAsync(string product, Guid install, int limit, CancellationToken cancellationToken) =>
        connections.ReadAsync(async reader => (
            await DuckDbNewestRows.EventsAsync(reader, product, limit, cancellationToken, install),
            await DuckDbNewestRows.QuarantineAsync(reader, product, limit, cancellationToken, install)), cancellationToken);

    public Task<QuarantineSummary> SummarizeQuarantineAsync(string product, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        connections.ReadAsync(async reader =>
        {
            using var command = reader.CreateCommand();
            command.CommandText = QuarantineSummary.Sql;
            Add(command, product);
            Add(command, from.UtcDateTime);
            Add(command, to.UtcDateTime);
            using var rows = await command.ExecuteReaderAsync(cancellationToken);
            return await QuarantineSummary.ReadAsync(rows, cancellationToken);
        }, cancellationToken);

    public Task<bool> HasEventsAsync(CancellationToken cancellationToken) =>
        connections.ReadAsync(async reader =>
        {
            using var command = reader.CreateCommand();
            command.CommandText = "SELECT EXISTS (SELECT 1 FROM events)";
            return Convert.ToBoolean(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }, cancellationToken);

    /// <summary>Whether the database answers a query.</summary>
    public Task<bool> IsReachableAsync(CancellationToken cancellationToken) =>
        connections.ReadAsync(async reader =>
        {
            try
            {
                using var command = reader.CreateCommand();
                command.CommandText = "SELECT 1";
                return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 1;
            }
            catch (DuckDBException)
            {
                return false;
            }
        }, cancellationToken);
}
