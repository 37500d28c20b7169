using System.Globalization;
using Npgsql;

namespace Candor.Collector.Storage.Postgres;

/// <summary>
/// PostgreSQL storage for several collector instances on one database. Events land in a table
/// partitioned by month of arrival; dedup is a separate <c>event_ids</c> table keyed by
/// (product, event id), because a partitioned table's unique keys must include the partition key.
/// Writes copy the batch's ids (binary COPY) into a session temp table, claim them in
/// <c>event_ids</c> in one statement, then binary-COPY only the claimed events into <c>events</c>. Plain SQL (no extensions), so it also runs on Citus.
/// </summary>
internal sealed class PostgresEventStore : IEventStore
{
    private const string Columns =
        "product, event_id, name, schema_version, event_time, received_at, install_id, session_id, project_id, user_id, " +
        "product_version, initial_version, sdk_version, runtime_version, os_family, os_version, kernel_release, " +
        "architecture, ci, ci_name, properties, country, region, ip_pseudonym, subject, duration_ms, failed, error_code";

    private const string EventColumnsDdl = """
            product text NOT NULL,
            event_id uuid NOT NULL,
            name text NOT NULL,
            schema_version text,
            event_time timestamptz NOT NULL,
            received_at timestamptz NOT NULL,
            install_id uuid,
            session_id uuid,
            project_id text,
            user_id text,
            product_version text,
            initial_version text,
            sdk_version text,
            runtime_version text,
            os_family text,
            os_version text,
            kernel_release text,
            architecture text,
            ci boolean,
            ci_name text,
            properties jsonb,
            country text,
            region text,
            ip_pseudonym text,
            subject text,
            duration_ms double precision,
            failed boolean,
            error_code text
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly HashSet<string> _partitions = new(StringComparer.Ordinal);
    private readonly Lock _moveLock = new();
    private Task? _moving;
    private long _lastMove = long.MinValue / 2;
    private long _pendingRows;

    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="concurrentWrites">How many groups this instance commits at once, each on its own
    /// connection. The unique key on <c>event_ids</c> keeps concurrent claims exact, as it does
    /// between instances.</param>
    public PostgresEventStore(string connectionString, int concurrentWrites = 1)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // The same few statements run for every group: prepared once per connection, they skip
        // parsing and planning (the rollup upserts take a dozen arrays each).
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 16;
        }

        _dataSource = builder.Build();
        ConcurrentWrites = concurrentWrites;
    }

    public int ConcurrentWrites { get; }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Two instances starting together must not race on CREATE ... IF NOT EXISTS.
        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(4242001)", cancellationToken);
        // Which rollup tables this database lacks (a database from an older collector, or a new one).
        var missing = new HashSet<string>(StringComparer.Ordinal);
        await using (var exists = new NpgsqlCommand("SELECT t FROM unnest($1::text[]) t WHERE to_regclass(t) IS NULL", connection, transaction))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = PostgresRollups.Tables.Select(t => t.Table).ToArray() });
            await using var reader = await exists.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                missing.Add(reader.GetString(0));
            }
        }

        await ExecuteAsync(connection, $"""
            CREATE TABLE IF NOT EXISTS event_ids (
                product text NOT NULL,
                event_id uuid NOT NULL,
                PRIMARY KEY (product, event_id)
            );
            CREATE TABLE IF NOT EXISTS events (
            {EventColumnsDdl}
            ) PARTITION BY RANGE (received_at);
            ALTER TABLE events ADD COLUMN IF NOT EXISTS subject text;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS duration_ms double precision;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS failed boolean;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS error_code text;
            CREATE TABLE IF NOT EXISTS events_default PARTITION OF events DEFAULT;
            CREATE INDEX IF NOT EXISTS events_product_received ON events (product, received_at);
            -- Analytics: a date range skips the blocks (and partitions) outside it, since events
            -- arrive roughly in time order; "first seen" asks per install for an earlier event.
            CREATE INDEX IF NOT EXISTS events_event_time_brin ON events USING brin (event_time);
            CREATE INDEX IF NOT EXISTS events_product_install_time ON events (product, install_id, event_time);
            CREATE TABLE IF NOT EXISTS quarantine (
                product text NOT NULL,
                event_id uuid,
                reason_code text NOT NULL,
                message text NOT NULL,
                schema_ref text,
                received_at timestamptz NOT NULL,
                event_json text NOT NULL
            );
            CREATE INDEX IF NOT EXISTS quarantine_product_received ON quarantine (product, received_at);
            """, cancellationToken);
        foreach (var rollup in PostgresRollups.Tables.Where(t => missing.Contains(t.Table)))
        {
            // Created and filled from what the database already holds (tens of seconds for 10
            // million events) in this transaction, so no write can slip in between.
            await ExecuteAsync(connection, rollup.Ddl, cancellationToken);
            if (rollup.Backfill.Length > 0)
            {
                await ExecuteAsync(connection, rollup.Backfill, cancellationToken);
            }

            await ExecuteAsync(connection, $"ANALYZE {rollup.Table}", cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        var now = DateTimeOffset.UtcNow;
        await EnsurePartitionAsync(now, cancellationToken);
        await EnsurePartitionAsync(now.AddMonths(1), cancellationToken);
    }

    public async Task<bool[]> WriteAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        foreach (var e in events)
        {
            await EnsurePartitionAsync(e.ReceivedAt, cancellationToken);
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var duplicate = await WriteOnceAsync(events, quarantine, cancellationToken);
                MaybeMovePending();
                return duplicate;
            }
            catch (PostgresException ex) when (attempt < 5 && ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                // Another instance claimed overlapping ids in another order; the retry sees its commit.
                await Task.Delay(10 * attempt, cancellationToken);
            }
            catch (PostgresException ex) when (IsContentError(ex.SqlState))
            {
                // The rows themselves were refused (ingest validation should make this unreachable):
                // the group-commit writer then retries each batch alone, so one bad batch fails alone.
                throw new StorageRejectedException(ex.SqlState, ex);
            }
        }
    }

    /// <summary>Data exceptions (class 22: invalid byte sequences, untranslatable characters, values
    /// out of range) and program limits (class 54: a value too large for an index row) come from what
    /// was written, not from the database's state.</summary>
    private static bool IsContentError(string sqlState) => sqlState.StartsWith("22", StringComparison.Ordinal) || sqlState.StartsWith("54", StringComparison.Ordinal);

    private async Task<bool[]> WriteOnceAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        var duplicate = new bool[events.Count];
        var firstSeen = new HashSet<(string, Guid)>(events.Count);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The group's distinct keys, sent as the two arrays of the claim below.
        var products = new List<string>(events.Count);
        var ids = new List<Guid>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            if (!firstSeen.Add((events[i].Product, events[i].Id)))
            {
                duplicate[i] = true;
            }
            else
            {
                products.Add(events[i].Product);
                ids.Add(events[i].Id);
            }
        }

        if (ids.Count > 0)
        {
            // The keys are claimed first, in one statement (in key order, so two instances claiming
            // overlapping ids wait on each other instead of deadlocking; the unique key makes the
            // later claim a no-op), then the claimed events are copied straight into events, with
            // no staging copy of whole rows.
            var claimed = new HashSet<(string, Guid)>(ids.Count);
            await using (var command = new NpgsqlCommand("""
                INSERT INTO event_ids (product, event_id)
                SELECT product, event_id FROM unnest($1::text[], $2::uuid[]) AS incoming (product, event_id)
                ORDER BY product, event_id
                ON CONFLICT DO NOTHING
                RETURNING product, event_id
                """, connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = products });
                command.Parameters.Add(new NpgsqlParameter { Value = ids });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    claimed.Add((reader.GetString(0), reader.GetGuid(1)));
                }
            }

            for (var i = 0; i < events.Count; i++)
            {
                if (!duplicate[i])
                {
                    duplicate[i] = !claimed.Contains((events[i].Product, events[i].Id));
                }
            }

            if (claimed.Count > 0)
            {
                using var rows = new CopyRowBuffer();
                for (var i = 0; i < events.Count; i++)
                {
                    if (!duplicate[i])
                    {
                        WriteEvent(rows, events[i]);
                    }
                }

                await rows.SendAsync(connection, $"COPY events ({Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken);
            }
        }

        if (quarantine.Count > 0)
        {
            using var rows = new CopyRowBuffer();
            foreach (var q in quarantine)
            {
                rows.StartRow(7);
                rows.WriteText(q.Product);
                rows.WriteUuid(q.EventId);
                rows.WriteText(q.ReasonCode);
                rows.WriteText(q.Message);
                rows.WriteText(q.SchemaRef);
                rows.WriteTimestamp(q.ReceivedAt);
                rows.WriteText(q.EventJson);
            }

            await rows.SendAsync(connection, $"COPY quarantine ({QuarantineRecord.Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        }

        // Last: the month rows it updates stay locked until the commit.
        var pending = await PostgresRollups.AddAsync(connection, transaction, events, duplicate, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Interlocked.Add(ref _pendingRows, pending);
        return duplicate;
    }

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
            list.Add(DuckDb.DuckDbEventStore.ReadEvent(reader));
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

    /// <summary>How often a write starts folding the pending day and duration counts
    /// (<see cref="PostgresRollups.MoveAsync"/>); infinite for never (tests). Longer intervals fold
    /// more events into each row (durations repeat); shorter ones leave fewer rows pending for
    /// queries to read. A write also starts one once this instance has added
    /// <see cref="MaxPendingRows"/> rows since the last.</summary>
    internal TimeSpan MoveInterval { get; set; } = TimeSpan.FromSeconds(30);

    private const long MaxPendingRows = 2_000_000;

    /// <summary>Folds the pending counts now; false when another writer is doing it.</summary>
    internal async Task<bool> MovePendingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await PostgresRollups.MoveAsync(connection, cancellationToken);
    }

    private void MaybeMovePending()
    {
        lock (_moveLock)
        {
            if (MoveInterval == Timeout.InfiniteTimeSpan || _moving is { IsCompleted: false }
                || (Environment.TickCount64 - _lastMove < (long)MoveInterval.TotalMilliseconds
                    && Interlocked.Read(ref _pendingRows) < MaxPendingRows))
            {
                return;
            }

            _lastMove = Environment.TickCount64;
            Interlocked.Exchange(ref _pendingRows, 0);
            _moving = Task.Run(async () =>
            {
                try
                {
                    await MovePendingAsync(CancellationToken.None);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    // The counts stay pending, and counted by every query, until a later write's
                    // fold succeeds.
                }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? moving;
        lock (_moveLock)
        {
            moving = _moving;
        }

        if (moving is not null)
        {
            await moving;
        }

        await _dataSource.DisposeAsync();
    }

    /// <summary>Creates the month's partition the first time an event of that month arrives. The name
    /// and bounds come from the date, never from input.</summary>
    private async Task EnsurePartitionAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        var start = new DateTimeOffset(at.Year, at.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var name = "events_" + start.ToString("yyyy_MM", CultureInfo.InvariantCulture);
        if (_partitions.Contains(name))
        {
            return;
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(4242001)", cancellationToken);
        var from = start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var to = start.AddMonths(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await ExecuteAsync(connection, $"CREATE TABLE IF NOT EXISTS {name} PARTITION OF events FOR VALUES FROM ('{from}') TO ('{to}')", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        _partitions.Add(name);
    }

    // The order of Columns.
    private static void WriteEvent(CopyRowBuffer rows, EventRecord e)
    {
        var c = e.Context;
        rows.StartRow(28);
        rows.WriteText(e.Product);
        rows.WriteUuid(e.Id);
        rows.WriteText(e.Name);
        rows.WriteText(e.SchemaVersion);
        rows.WriteTimestamp(e.Time);
        rows.WriteTimestamp(e.ReceivedAt);
        rows.WriteUuid(c.InstallId);
        rows.WriteUuid(c.SessionId);
        rows.WriteText(c.ProjectId);
        rows.WriteText(c.UserId);
        rows.WriteText(c.ProductVersion);
        rows.WriteText(c.InitialVersion);
        rows.WriteText(c.SdkVersion);
        rows.WriteText(c.RuntimeVersion);
        rows.WriteText(c.OsFamily);
        rows.WriteText(c.OsVersion);
        rows.WriteText(c.KernelRelease);
        rows.WriteText(c.Architecture);
        rows.WriteBoolean(c.Ci);
        rows.WriteText(c.CiName);
        rows.WriteJsonb(e.PropertiesJson);
        rows.WriteText(e.Country);
        rows.WriteText(e.Region);
        rows.WriteText(e.IpPseudonym);
        rows.WriteText(e.Analytics.Subject);
        rows.WriteDouble(e.Analytics.DurationMs);
        rows.WriteBoolean(e.Analytics.Failed);
        rows.WriteText(e.Analytics.ErrorCode);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
