using System.Globalization;
using Npgsql;

namespace Candor.Collector.Storage.Postgres;

/// <summary>What the admin API and the health checks read: recent events, quarantined items and
/// their summary, whether any event is stored, whether the server answers.</summary>
internal sealed partial class PostgresEventStore
{
    public async Task<IReadOnlyList<StoredEvent>> ReadRecentAsync(string product, int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            $"SELECT {Columns.Replace("properties", "properties::text", StringComparison.Ordinal)} FROM events WHERE product = $1 ORDER BY received_at DESC, event_id DESC LIMIT $2");
        command.Parameters.Add(new NpgsqlParameter { Value = product });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var list = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(StoredEvent.Read(reader));
        }

        return list;
    }

    public async Task<IReadOnlyList<QuarantineRecord>> ReadQuarantineAsync(string product, int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            $"SELECT {QuarantineRecord.Columns} FROM quarantine WHERE product = $1 ORDER BY received_at DESC LIMIT $2");
        command.Parameters.Add(new NpgsqlParameter { Value = product });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var list = new List<QuarantineRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(QuarantineRecord.Read(reader));
        }

        return list;
    }

    public async Task<QuarantineSummary> SummarizeQuarantineAsync(string product, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(QuarantineSummary.Sql);
        command.Parameters.Add(new NpgsqlParameter { Value = product });
        command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await QuarantineSummary.ReadAsync(reader, cancellationToken);
    }

    public async Task<bool> HasEventsAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM events)");
        return Convert.ToBoolean(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand("SELECT 1");
            return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 1;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return false;
        }
    }
}
