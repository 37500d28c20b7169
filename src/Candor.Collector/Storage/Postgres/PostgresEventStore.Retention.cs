using System.Data;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Candor.Collector.Storage.Postgres;

/// <summary>
/// Retention (<see cref="IDataRights.DeleteExpiredAsync"/>): a product's events before a
/// UTC midnight and its quarantined items received before another, with every rollup kept equal to
/// a recomputation from the events that remain.
/// <para>Two steps. First, in one REPEATABLE READ transaction holding the fold lock (so no fold
/// moves counts meanwhile), the old events, the day-table rows of the days before the cut-off
/// (whole days, since the cut-off is a midnight) and the month-table rows of the months before
/// its month go together: one snapshot, so a writer committing an old event meanwhile has both its
/// event and its counts kept, or neither. Second, the month that holds the cut-off is
/// recomputed from the remaining events for the installs that had events before it, a hundred at
/// a time, each time under those installs' advisory locks (as a forget), because writers update
/// those rows in place.</para>
/// </summary>
internal sealed partial class PostgresEventStore
{
    /// <summary>How far after its arrival an event's time may be (the collector's default
    /// <see cref="CollectorOptions.MaxFutureSkew"/>). A partition holds the events received in its
    /// month, so their times are before the month's end plus this; only such partitions are
    /// candidates for dropping whole, and each is checked first anyway (a larger configured skew,
    /// or events written by other tools, must never be dropped with it).</summary>
    private static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(10);

    [GeneratedRegex("^events_([0-9]{4})_([0-9]{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex MonthPartition();

    public async Task<RetentionOutcome> DeleteExpiredAsync(string product, DateTimeOffset eventsBefore, DateTimeOffset quarantineBefore, CancellationToken cancellationToken)
    {
        if (eventsBefore.UtcTicks % TimeSpan.TicksPerDay != 0)
        {
            throw new ArgumentException("The cut-off must be a UTC midnight: the day tables count whole days.", nameof(eventsBefore));
        }

        await EnsureTombstoneKeyAsync(cancellationToken);
        long events;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                events = await DeleteOldEventsAsync(product, eventsBefore.UtcDateTime, cancellationToken);
                break;
            }
            catch (PostgresException ex) when (attempt < 5 && ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                // A writer updated an old month row (an event older than the cut-off arriving now).
                await Task.Delay(100 * attempt, cancellationToken);
            }
        }

        await RecomputeCutMonthAsync(product, eventsBefore.UtcDateTime, cancellationToken);
        await using var quarantine = _dataSource.CreateCommand("DELETE FROM quarantine WHERE product = $1 AND received_at < $2");
        quarantine.CommandTimeout = 0;
        quarantine.Parameters.Add(new NpgsqlParameter { Value = product });
        quarantine.Parameters.Add(new NpgsqlParameter { Value = quarantineBefore.UtcDateTime });
        return new RetentionOutcome(events, await quarantine.ExecuteNonQueryAsync(cancellationToken));
    }

    private async Task<long> DeleteOldEventsAsync(string product, DateTime cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        // A session lock, taken before the transaction's snapshot: a fold that commits after the
        // snapshot would move counts this transaction cannot see.
        await ExecuteAsync(connection, "SELECT pg_advisory_lock(4242002)", cancellationToken);
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
            var partitions = new List<string>();
            await using (var list = new NpgsqlCommand("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY 1", connection, transaction))
            await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    partitions.Add(reader.GetString(0));
                }
            }

            long deleted = 0;
            var drop = new List<string>();
            foreach (var partition in partitions)
            {
                var whole = await CountIfOnlyExpiredAsync(connection, transaction, partition, product, cutoff, cancellationToken);
                if (whole is { } count)
                {
                    drop.Add(partition);
                    deleted += count;
                }
                else
                {
                    deleted += await DeleteRowsAsync(connection, transaction, partition, product, cutoff, cancellationToken);
                }
            }

            var day = DateOnly.FromDateTime(cutoff);
            await using (var batch = new NpgsqlBatch(connection, transaction) { Timeout = 0 })
            {
                foreach (var table in PostgresRollups.DayTables)
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand($"DELETE FROM {table} WHERE product = $1 AND day < $2")
                    { Parameters = { new NpgsqlParameter { Value = product }, new NpgsqlParameter { Value = day } } });
                }

                foreach (var table in new[] { "install_months", "event_months" })
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand($"DELETE FROM {table} WHERE product = $1 AND month < $2")
                    { Parameters = { new NpgsqlParameter { Value = product }, new NpgsqlParameter { Value = new DateOnly(day.Year, day.Month, 1) } } });
                }

                await batch.ExecuteNonQueryAsync(cancellationToken);
            }

            // Last, so the lock on events that DROP takes is held only until the commit. It waits
            // for every query on events: a long one makes it give up and delete the rows instead,
            // rather than stall every writer queued behind it.
            await ExecuteAsync(connection, "SET LOCAL lock_timeout = '5s'", cancellationToken);
            foreach (var partition in drop)
            {
                await transaction.SaveAsync("drop", cancellationToken);
                try
                {
                    await ExecuteAsync(connection, $"DROP TABLE {partition}", cancellationToken);
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
                {
                    await transaction.RollbackAsync("drop", cancellationToken);
                    await DeleteRowsAsync(connection, transaction, partition, product, cutoff, cancellationToken);
                }
            }

            await transaction.CommitAsync(cancellationToken);
            return deleted;
        }
        finally
        {
            if (connection.State == ConnectionState.Open)
            {
                await ExecuteAsync(connection, "SELECT pg_advisory_unlock(4242002)", CancellationToken.None);
            }
        }
    }

    /// <summary>The number of rows of a monthly partition that can be dropped whole: it ended (plus
    /// the future skew) before the cut-off, and holds only this product's events, all before the
    /// cut-off (checked: the indexes make each check a few page reads). Null when it cannot.</summary>
    private static async Task<long?> CountIfOnlyExpiredAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string partition, string product, DateTime cutoff, CancellationToken cancellationToken)
    {
        var month = MonthPartition().Match(partition);
        if (!month.Success)
        {
            return null;
        }

        var start = new DateTime(int.Parse(month.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(month.Groups[2].Value, CultureInfo.InvariantCulture), 1, 0, 0, 0, DateTimeKind.Utc);
        if (start.AddMonths(1) + MaxFutureSkew > cutoff)
        {
            return null;
        }

        // The name matched the pattern above: it is one this store made, safe to put in the SQL.
        await using var check = new NpgsqlCommand($"""
            SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM {partition} WHERE product < $1)
                         AND NOT EXISTS (SELECT 1 FROM {partition} WHERE product > $1)
                         AND NOT EXISTS (SELECT 1 FROM {partition} WHERE event_time >= $2)
                        THEN (SELECT count(*) FROM {partition}) END
            """, connection, transaction) { CommandTimeout = 0 };
        check.Parameters.Add(new NpgsqlParameter { Value = product });
        check.Parameters.Add(new NpgsqlParameter { Value = cutoff });
        return await check.ExecuteScalarAsync(cancellationToken) is long count ? count : null;
    }

    private static async Task<int> DeleteRowsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string partition, string product, DateTime cutoff, CancellationToken cancellationToken)
    {
        await using var delete = new NpgsqlCommand(
            $"DELETE FROM \"{partition.Replace("\"", "\"\"", StringComparison.Ordinal)}\" WHERE product = $1 AND event_time < $2", connection, transaction) { CommandTimeout = 0 };
        delete.Parameters.Add(new NpgsqlParameter { Value = product });
        delete.Parameters.Add(new NpgsqlParameter { Value = cutoff });
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Rebuilds the month-table rows of the cut-off's month (when it is not the 1st) from the
    /// remaining events, for the installs with an event before the cut-off in that month.</summary>
    private async Task RecomputeCutMonthAsync(string product, DateTime cutoff, CancellationToken cancellationToken)
    {
        if (cutoff.Day == 1)
        {
            return;
        }

        var month = new DateOnly(cutoff.Year, cutoff.Month, 1);
        var from = new DateTime(cutoff.Year, cutoff.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        var installs = new List<Guid>();
        await using (var affected = _dataSource.CreateCommand("SELECT DISTINCT install_id FROM install_months WHERE product = $1 AND month = $2 AND first_time < $3"))
        {
            affected.Parameters.Add(new NpgsqlParameter { Value = product });
            affected.Parameters.Add(new NpgsqlParameter { Value = month });
            affected.Parameters.Add(new NpgsqlParameter { Value = cutoff });
            await using var reader = await affected.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                installs.Add(reader.GetGuid(0));
            }
        }

        const string Events = "product = $1 AND install_id = ANY($2) AND event_time >= $3 AND event_time < $4";
        foreach (var chunk in installs.Chunk(100))
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var batch = new NpgsqlBatch(connection, transaction) { Timeout = 0 };
            batch.BatchCommands.Add(new NpgsqlBatchCommand(
                "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT k FROM unnest($1::bigint[]) k ORDER BY k) s")
            { Parameters = { new NpgsqlParameter { Value = chunk.Select(i => LockKey(Forgotten.Tombstone(product, i))).Distinct().Order().ToArray() } } });
            foreach (var table in new[] { "install_months", "event_months" })
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand($"DELETE FROM {table} WHERE product = $1 AND month = $2 AND install_id = ANY($3)")
                { Parameters = { new NpgsqlParameter { Value = product }, new NpgsqlParameter { Value = month }, new NpgsqlParameter { Value = chunk } } });
            }

            foreach (var fill in new[] { PostgresRollups.FillInstallMonths(Events), PostgresRollups.FillEventMonths(Events) })
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(fill)
                {
                    Parameters =
                    {
                        new NpgsqlParameter { Value = product }, new NpgsqlParameter { Value = chunk },
                        new NpgsqlParameter { Value = from }, new NpgsqlParameter { Value = from.AddMonths(1) },
                    },
                });
            }

            await batch.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
    }
}
