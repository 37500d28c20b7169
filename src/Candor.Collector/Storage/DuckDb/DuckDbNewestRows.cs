using System.Data.Common;
using DuckDB.NET.Data;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// The admin reads' "newest rows of a product", within DuckDB's memory limit at any table size and
/// row width. A plain <c>SELECT * ... ORDER BY ... LIMIT n</c> runs a top-N that holds n whole rows
/// and their sort state (with 4 KB rows and n = 1000 it ran out of a 48 MB limit); here the top-N
/// sorts the keys and row ids alone, then the rows are fetched by row id in pages bounded by their
/// bytes, measured first, and only from the row groups that arrived no earlier than the oldest row
/// wanted (their zone maps on <c>received_at</c> let DuckDB skip the rest: a fetch by row id alone
/// scanned every column of the whole table, which ran out of the 48 MB limit at 220,000 events once the
/// cloud context columns were added). One read transaction, so the row ids stay those of one snapshot.
/// </summary>
internal static class DuckDbNewestRows
{
    /// <summary>The most string bytes one page fetches (and DuckDB holds at once for it).</summary>
    private const long PageBytes = 4L << 20;

    /// <summary>The most rows one page fetches, and ids one statement names.</summary>
    private const int PageRows = 500;

    /// <summary>The newest events of <paramref name="product"/> (of one install of it, with <paramref name="install"/>), by arrival.</summary>
    public static Task<List<StoredEvent>> EventsAsync(DuckDBConnection connection, string product, int limit, CancellationToken cancellationToken, Guid? install = null) =>
        ReadAsync(connection, "events", DuckDbSchema.EventColumns, DuckDbSchema.EventStringColumns, "received_at DESC, event_id DESC",
            product, install, limit, StoredEvent.Read, cancellationToken);

    /// <summary>The newest quarantined events of <paramref name="product"/> (of one install of it, with <paramref name="install"/>), by arrival.</summary>
    public static Task<List<QuarantineRecord>> QuarantineAsync(DuckDBConnection connection, string product, int limit, CancellationToken cancellationToken, Guid? install = null) =>
        ReadAsync(connection, "quarantine", QuarantineRecord.Columns, DuckDbSchema.QuarantineStringColumns, "received_at DESC",
            product, install, limit, QuarantineRecord.Read, cancellationToken);

    /// <summary>Reads up to <paramref name="limit"/> rows of <paramref name="table"/> for <paramref name="product"/>,
    /// in <paramref name="orderBy"/> order. <paramref name="columns"/> are read by <paramref name="read"/> (from
    /// ordinal 0); <paramref name="stringColumns"/> measure a row. Names come from constants, never input.</summary>
    private static async Task<List<T>> ReadAsync<T>(
        DuckDBConnection connection, string table, string columns, string[] stringColumns, string orderBy,
        string product, Guid? install, int limit, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        using var transaction = connection.BeginTransaction();
        var ids = new List<long>();
        // The oldest arrival among the rows wanted: the fetches below skip, by their zone maps, every
        // row group that arrived before it, instead of scanning every column of the whole table.
        DateTime? floor = null;
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            var ofInstall = install is null ? "" : " AND install_id = $3";
            command.CommandText = $"SELECT rowid, received_at FROM {table} WHERE product = $1{ofInstall} ORDER BY {orderBy} LIMIT $2";
            command.Parameters.Add(new DuckDBParameter(product));
            command.Parameters.Add(new DuckDBParameter(Math.Max(0, limit)));
            if (install is { } id)
            {
                command.Parameters.Add(new DuckDBParameter(id));
            }
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
                var receivedAt = reader.GetDateTime(1);
                floor = floor is null || receivedAt < floor ? receivedAt : floor;
            }
        }

        var size = string.Join(" + ", stringColumns.Select(c => $"coalesce(strlen({c}), 0)"));
        var bytes = new Dictionary<long, long>(ids.Count);
        for (var i = 0; i < ids.Count; i += PageRows)
        {
            await QueryAsync(connection, transaction, $"SELECT rowid, {size} FROM {table} WHERE received_at >= $1 AND rowid IN", floor, ids.GetRange(i, Math.Min(PageRows, ids.Count - i)),
                reader => bytes[reader.GetInt64(0)] = reader.GetInt64(1), cancellationToken);
        }

        var rows = new Dictionary<long, T>(ids.Count);
        var page = new List<long>();
        long pageBytes = 0;
        for (var i = 0; i <= ids.Count; i++)
        {
            var next = i < ids.Count ? bytes.GetValueOrDefault(ids[i]) : 0;
            if (page.Count > 0 && (i == ids.Count || page.Count == PageRows || pageBytes + next > PageBytes))
            {
                await QueryAsync(connection, transaction, $"SELECT {columns}, rowid FROM {table} WHERE received_at >= $1 AND rowid IN", floor, page,
                    reader => rows[reader.GetInt64(reader.FieldCount - 1)] = read(reader), cancellationToken);
                (page, pageBytes) = ([], 0);
            }

            if (i < ids.Count)
            {
                page.Add(ids[i]);
                pageBytes += next;
            }
        }

        transaction.Commit();
        return [.. ids.Where(rows.ContainsKey).Select(id => rows[id])];
    }

    private static async Task QueryAsync(
        DuckDBConnection connection, DuckDBTransaction transaction, string sql, DateTime? floor, List<long> ids, Action<DbDataReader> row, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"{sql} ({string.Join(", ", ids.Select((_, i) => $"${i + 2}"))})";
        command.Parameters.Add(new DuckDBParameter(floor ?? DateTime.MinValue));
        foreach (var id in ids)
        {
            command.Parameters.Add(new DuckDBParameter(id));
        }

        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            row(reader);
        }
    }
}
