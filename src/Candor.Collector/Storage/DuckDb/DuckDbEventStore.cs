using System.Text.Json;
using Candor.Collector.Analytics;
using Candor.Protocol;
using DuckDB.NET.Data;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// The embedded default store: one DuckDB file, one connection, one writer at a time.
/// Every statement is parameterized.
/// </summary>
internal sealed class DuckDbEventStore : IEventStore
{
    private const string Columns =
        "product, event_id, name, schema_version, event_time, received_at, install_id, session_id, project_id, user_id, " +
        "product_version, initial_version, sdk_version, runtime_version, os_family, os_version, kernel_release, " +
        "architecture, ci, ci_name, country, region, properties, subject, duration_ms, failed, error_code";

    private readonly DuckDBConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public DuckDbEventStore(string databasePath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(databasePath));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        _connection = new DuckDBConnection($"Data Source={databasePath}");
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _connection.OpenAsync(cancellationToken);
        using var command = _connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS events (
                product VARCHAR NOT NULL,
                event_id UUID NOT NULL,
                name VARCHAR NOT NULL,
                schema_version VARCHAR,
                event_time TIMESTAMP NOT NULL,
                received_at TIMESTAMP NOT NULL,
                install_id UUID,
                session_id UUID,
                project_id VARCHAR,
                user_id VARCHAR,
                product_version VARCHAR,
                initial_version VARCHAR,
                sdk_version VARCHAR,
                runtime_version VARCHAR,
                os_family VARCHAR,
                os_version VARCHAR,
                kernel_release VARCHAR,
                architecture VARCHAR,
                ci BOOLEAN,
                ci_name VARCHAR,
                country VARCHAR,
                region VARCHAR,
                properties VARCHAR,
                subject VARCHAR,
                duration_ms DOUBLE,
                failed BOOLEAN,
                error_code VARCHAR,
                PRIMARY KEY (product, event_id)
            );
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<StoreResult>> AppendAsync(
        EventContext context, IReadOnlyList<TelemetryEvent> events, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        var results = new StoreResult[events.Count];
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var transaction = _connection.BeginTransaction();
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"INSERT INTO events ({Columns}) VALUES ({Placeholders(27)}) ON CONFLICT DO NOTHING";
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                command.Parameters.Clear();
                Add(command, context.Product);
                Add(command, e.Id);
                Add(command, e.Name);
                Add(command, e.Version);
                Add(command, e.Time.UtcDateTime);
                Add(command, receivedAt.UtcDateTime);
                Add(command, context.InstallId);
                Add(command, context.SessionId);
                Add(command, context.ProjectId);
                Add(command, context.UserId);
                Add(command, context.ProductVersion);
                Add(command, context.InitialVersion);
                Add(command, context.SdkVersion);
                Add(command, context.RuntimeVersion);
                Add(command, context.OsFamily);
                Add(command, context.OsVersion);
                Add(command, context.KernelRelease);
                Add(command, context.Architecture);
                Add(command, context.Ci);
                Add(command, context.CiName);
                Add(command, null);
                Add(command, null);
                Add(command, e.Properties is null ? null : JsonSerializer.Serialize(e.Properties, CollectorJsonContext.Default.IDictionaryStringPropertyValue));
                var fields = AnalyticsFields.Derive(e);
                Add(command, fields.Subject);
                Add(command, fields.DurationMs);
                Add(command, fields.Failed);
                Add(command, fields.ErrorCode);
                var inserted = await command.ExecuteNonQueryAsync(cancellationToken);
                results[i] = inserted > 0 ? StoreResult.Stored : StoreResult.Duplicate;
            }

            transaction.Commit();
        }
        finally
        {
            _gate.Release();
        }

        return results;
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadRecentAsync(string product, int limit, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM events WHERE product = $1 ORDER BY received_at DESC, event_id DESC LIMIT $2";
            Add(command, product);
            Add(command, limit);
            var list = new List<StoredEvent>();
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(new StoredEvent
                {
                    Id = reader.GetGuid(1),
                    Name = reader.GetString(2),
                    Version = NullableString(reader, 3),
                    Time = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc)),
                    ReceivedAt = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc)),
                    Context = new EventContext
                    {
                        Product = reader.GetString(0),
                        InstallId = reader.IsDBNull(6) ? null : reader.GetGuid(6),
                        SessionId = reader.IsDBNull(7) ? Guid.Empty : reader.GetGuid(7),
                        ProjectId = NullableString(reader, 8),
                        UserId = NullableString(reader, 9),
                        ProductVersion = NullableString(reader, 10),
                        InitialVersion = NullableString(reader, 11),
                        SdkVersion = NullableString(reader, 12),
                        RuntimeVersion = NullableString(reader, 13),
                        OsFamily = NullableString(reader, 14),
                        OsVersion = NullableString(reader, 15),
                        KernelRelease = NullableString(reader, 16),
                        Architecture = NullableString(reader, 17),
                        Ci = !reader.IsDBNull(18) && reader.GetBoolean(18),
                        CiName = NullableString(reader, 19),
                    },
                    Properties = reader.IsDBNull(22)
                        ? null
                        : JsonSerializer.Deserialize(reader.GetString(22), CollectorJsonContext.Default.IDictionaryStringPropertyValue),
                });
            }

            return list;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT 1";
            return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 1;
        }
        catch (DuckDBException)
        {
            return false;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            await _connection.DisposeAsync();
        }
        finally
        {
            _gate.Release();
            _gate.Dispose();
        }
    }

    private static string Placeholders(int count) =>
        string.Join(", ", Enumerable.Range(1, count).Select(i => "$" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static void Add(DuckDBCommand command, object? value) =>
        command.Parameters.Add(new DuckDBParameter(value ?? DBNull.Value));

    private static string? NullableString(System.Data.Common.DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
