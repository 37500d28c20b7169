using System.Globalization;
using DuckDB.NET.Data;
using static Candor.Collector.Storage.DuckDb.DuckDbConnections;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// What opening the DuckDB file does on the writer's connection before anything is written: the
/// database-wide settings, the tables, and the install numbers and context columns a file from an
/// older collector lacks.
/// </summary>
internal static class DuckDbMigrations
{
    /// <summary>Applies the settings, creates or upgrades the tables and loads the install numbers into
    /// <paramref name="installNumbers"/>. Returns DuckDB's worker threads outside checkpoints (its
    /// default: one per core). <paramref name="checkpointWalBytes"/> is the WAL size at which the store
    /// checkpoints itself (0 leaves it to DuckDB).</summary>
    public static async Task<long> PrepareAsync(
        DuckDBConnection writer, string memoryLimit, long checkpointWalBytes, InstallNumbers installNumbers, CancellationToken cancellationToken)
    {
        // A database-wide setting; SET does not take parameters, and the value was validated at startup.
        await ExecuteAsync(writer, $"SET memory_limit = '{memoryLimit}'", cancellationToken);
        long threads;
        using (var command = writer.CreateCommand())
        {
            command.CommandText = "SELECT current_setting('threads')";
            threads = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }

        // DuckDB checkpoints inside a commit once the WAL passes its threshold, and every write waits
        // for it. The store checkpoints itself instead (DuckDbCheckpointer), at a smaller WAL size;
        // DuckDB's own threshold stays as a backstop, far above it.
        var backstop = checkpointWalBytes > 0 ? Math.Max(1, (checkpointWalBytes * 4) >> 20) : 256;
        await ExecuteAsync(writer, $"SET checkpoint_threshold = '{backstop}MB'", cancellationToken);
        var numbered = await HasInstallNumbersAsync(writer, cancellationToken);
        await ExecuteAsync(writer, DuckDbSchema.CreateTables, cancellationToken);
        if (!numbered)
        {
            await NumberInstallsAsync(writer, cancellationToken);
        }

        await ExecuteAsync(writer, DuckDbSchema.AddContextColumns, cancellationToken);

        await LoadInstallNumbersAsync(writer, installNumbers, cancellationToken);
        return threads;
    }

    /// <summary>Whether the events table exists with its install numbers (a new file gets them with the table).</summary>
    private static async Task<bool> HasInstallNumbersAsync(DuckDBConnection writer, CancellationToken cancellationToken)
    {
        using var command = writer.CreateCommand();
        command.CommandText = """
            SELECT count(*) = 0 OR count(*) FILTER (WHERE column_name = 'install_seq') = 1
            FROM information_schema.columns WHERE table_schema = 'main' AND table_name = 'events'
            """;
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Install numbers (see <see cref="InstallNumbers"/>): the <c>install_numbers</c> table holds a
    /// small dense number and the first event's time per (product, install id), and each event
    /// carries its install's number in <c>install_seq</c>. A file from before install numbers gets
    /// the column and the table's rows here, in one transaction (so a crash leaves it as it was);
    /// afterwards the writer keeps both in the same transaction as the events.
    /// </summary>
    private static async Task NumberInstallsAsync(DuckDBConnection writer, CancellationToken cancellationToken)
    {
        using var transaction = writer.BeginTransaction();
        await ExecuteAsync(writer, """
            ALTER TABLE events ADD COLUMN install_seq INTEGER;
            INSERT INTO install_numbers
            SELECT product, install_id, row_number() OVER (ORDER BY first_received, product, install_id), first_seen
            FROM (SELECT product, install_id, min(received_at) AS first_received, min(event_time) AS first_seen
                  FROM events WHERE install_id IS NOT NULL GROUP BY product, install_id);
            UPDATE events SET install_seq = install_numbers.seq FROM install_numbers
            WHERE events.product = install_numbers.product AND events.install_id = install_numbers.install_id;
            """, cancellationToken);
        transaction.Commit();
    }

    private static async Task LoadInstallNumbersAsync(DuckDBConnection writer, InstallNumbers installNumbers, CancellationToken cancellationToken)
    {
        using var command = writer.CreateCommand();
        command.CommandText = "SELECT product, install_id, seq, first_seen FROM install_numbers";
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            installNumbers.Load(reader.GetString(0), reader.GetGuid(1), reader.GetInt32(2), reader.GetDateTime(3));
        }
    }
}
