using System.Globalization;
using System.Security.Cryptography;
using DuckDB.NET.Data;
using static Candor.Collector.Storage.DuckDb.DuckDbConnections;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// The SQL of forget, access and retention on the DuckDB file (<see cref="DuckDbEventStore"/>'s
/// data-rights part runs it on the right connection at the right time): the tombstone key in
/// <c>collector_secrets</c>, the tombstones in <c>forgotten_installs</c>, and the deletions, each
/// deletion in one transaction on the writer's connection.
/// </summary>
internal static class DuckDbDataRights
{
    private const string KeyName = "tombstone_key";

    /// <summary>The tombstone key, made (32 random bytes) and kept the first time; on the writer's connection.</summary>
    public static async Task<byte[]> ReadOrCreateKeyAsync(DuckDBConnection writer, CancellationToken cancellationToken)
    {
        if (await ReadKeyAsync(writer, cancellationToken) is { } key)
        {
            return key;
        }

        using var command = writer.CreateCommand();
        command.CommandText = "INSERT INTO collector_secrets VALUES ($1, $2) ON CONFLICT DO NOTHING";
        Add(command, KeyName);
        Add(command, RandomNumberGenerator.GetBytes(32));
        await command.ExecuteNonQueryAsync(cancellationToken);
        return (await ReadKeyAsync(writer, cancellationToken))!;
    }

    /// <summary>The tombstone key, or null before it is made.</summary>
    public static async Task<byte[]?> ReadKeyAsync(DuckDBConnection connection, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM collector_secrets WHERE name = $1";
        Add(command, KeyName);
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Blob(reader, 0) : null;
    }

    public static async Task<IReadOnlyList<byte[]>> ReadTombstonesAsync(DuckDBConnection connection, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT tombstone FROM forgotten_installs";
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tombstones = new List<byte[]>();
        while (await reader.ReadAsync(cancellationToken))
        {
            tombstones.Add(Blob(reader, 0));
        }

        return tombstones;
    }

    /// <summary>Whether anything is held for the install (an event, a quarantined event, an install
    /// number) or its tombstone is kept: otherwise forget has nothing to do.</summary>
    public static async Task<bool> HoldsAnythingAsync(DuckDBConnection connection, string product, Guid install, byte[] tombstone, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT EXISTS (SELECT 1 FROM events WHERE product = $1 AND install_id = $2)
                OR EXISTS (SELECT 1 FROM quarantine WHERE product = $1 AND install_id = $2)
                OR EXISTS (SELECT 1 FROM install_numbers WHERE product = $1 AND install_id = $2)
                OR EXISTS (SELECT 1 FROM forgotten_installs WHERE tombstone = $3)
            """;
        Add(command, product);
        Add(command, install);
        Add(command, tombstone);
        return Convert.ToBoolean(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Keeps the tombstone (unless it is kept already) and deletes the install's events, quarantined
    /// events and install number, in one transaction: a crash leaves all of it or none. Returns whether
    /// the tombstone was kept before, and the counts deleted.
    /// </summary>
    public static async Task<(bool Already, long Events, long Quarantine)> ForgetAsync(
        DuckDBConnection writer, string product, Guid install, byte[] tombstone, DateTime now, CancellationToken cancellationToken)
    {
        using var transaction = writer.BeginTransaction();
        bool already;
        using (var command = Command(writer, transaction, "SELECT count(*) FROM forgotten_installs WHERE tombstone = $1", tombstone))
        {
            already = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
        }

        if (!already)
        {
            using var command = Command(writer, transaction, "INSERT INTO forgotten_installs VALUES ($1, $2)", tombstone, now);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var events = await DeleteAsync(writer, transaction, "DELETE FROM events WHERE product = $1 AND install_id = $2", cancellationToken, product, install);
        var quarantine = await DeleteAsync(writer, transaction, "DELETE FROM quarantine WHERE product = $1 AND install_id = $2", cancellationToken, product, install);
        await DeleteAsync(writer, transaction, "DELETE FROM install_numbers WHERE product = $1 AND install_id = $2", cancellationToken, product, install);
        transaction.Commit();
        return (already, events, quarantine);
    }

    /// <summary>
    /// Deletes the product's events before <paramref name="eventsBefore"/> and its quarantined events
    /// received before <paramref name="quarantineBefore"/>, in one transaction, and keeps
    /// <c>install_numbers</c> what a file holding only the remaining events would hold: an install's
    /// first-seen time becomes its earliest remaining event, and an install with no event left loses
    /// its row (an event it sends later numbers it anew, and "new installs" counts it then). So every
    /// analytics answer, first-seen and new installs included, equals a recomputation from what
    /// remains. Returns the counts deleted and the install rows changed, for the writer's copy.
    /// </summary>
    public static async Task<Expired> DeleteExpiredAsync(
        DuckDBConnection writer, string product, DateTime eventsBefore, DateTime quarantineBefore, CancellationToken cancellationToken)
    {
        using var transaction = writer.BeginTransaction();
        var events = await DeleteAsync(writer, transaction, "DELETE FROM events WHERE product = $1 AND event_time < $2", cancellationToken, product, eventsBefore);
        var quarantine = await DeleteAsync(writer, transaction, "DELETE FROM quarantine WHERE product = $1 AND received_at < $2", cancellationToken, product, quarantineBefore);
        var moved = new List<(Guid Install, DateTime FirstSeen)>();
        var removed = new List<Guid>();
        if (events > 0)
        {
            // Only an install whose first event is before the cut-off can have lost events.
            const string Move = """
                UPDATE install_numbers SET first_seen = m.first_seen
                FROM (SELECT install_id, min(event_time) AS first_seen FROM events
                      WHERE product = $1 AND install_id IN (SELECT install_id FROM install_numbers WHERE product = $1 AND first_seen < $2)
                      GROUP BY install_id) m
                WHERE install_numbers.product = $1 AND install_numbers.install_id = m.install_id AND install_numbers.first_seen < $2
                RETURNING install_numbers.install_id, install_numbers.first_seen
                """;
            await ReadAsync(writer, transaction, Move, r => moved.Add((r.GetGuid(0), r.GetDateTime(1))), cancellationToken, product, eventsBefore);
            // Every remaining event is at or after the cut-off: a first-seen time still before it has no event left.
            const string Drop = "DELETE FROM install_numbers WHERE product = $1 AND first_seen < $2 RETURNING install_id";
            await ReadAsync(writer, transaction, Drop, r => removed.Add(r.GetGuid(0)), cancellationToken, product, eventsBefore);
        }

        transaction.Commit();
        return new Expired(events, quarantine, moved, removed);
    }

    /// <summary>What a retention pass deleted, and how it changed <c>install_numbers</c>.</summary>
    internal sealed record Expired(long Events, long Quarantine, List<(Guid Install, DateTime FirstSeen)> Moved, List<Guid> Removed);

    private static DuckDBCommand Command(DuckDBConnection connection, DuckDBTransaction transaction, string sql, params object?[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var parameter in parameters)
        {
            Add(command, parameter);
        }

        return command;
    }

    private static async Task<long> DeleteAsync(
        DuckDBConnection connection, DuckDBTransaction transaction, string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task ReadAsync(
        DuckDBConnection connection, DuckDBTransaction transaction, string sql, Action<System.Data.Common.DbDataReader> row,
        CancellationToken cancellationToken, params object?[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            row(reader);
        }
    }

    private static byte[] Blob(System.Data.Common.DbDataReader reader, int ordinal)
    {
        var value = reader.GetValue(ordinal);
        if (value is byte[] bytes)
        {
            return bytes;
        }

        using var stream = (Stream)value;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
