using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Candor.Protocol;
using DuckDB.NET.Data;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// The embedded default store: one DuckDB file. Writes come from the single group-commit writer
/// through one connection and the appender; reads use a second connection to the same database,
/// so the admin API never waits behind a commit. Every statement is parameterized.
/// Dedup is the writer's job, not a primary key's: DuckDB locks its file to one process and this
/// store has one writer, so checking a group's ids against the table inside the write transaction
/// is exact, and it avoids the cost of maintaining an ART index on every append (measured: the
/// keyed INSERT ... ON CONFLICT was the largest part of each commit).
/// </summary>
internal sealed class DuckDbEventStore : IEventStore
{
    private const string Columns =
        "product, event_id, name, schema_version, event_time, received_at, install_id, session_id, project_id, user_id, " +
        "product_version, initial_version, sdk_version, runtime_version, os_family, os_version, kernel_release, " +
        "architecture, ci, ci_name, properties, country, region, ip_pseudonym";

    private const string EventColumnsDdl = """
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
                properties VARCHAR,
                country VARCHAR,
                region VARCHAR,
                ip_pseudonym VARCHAR,
                subject VARCHAR,
                duration_ms DOUBLE,
                failed BOOLEAN,
                error_code VARCHAR,
                install_seq INTEGER
        """;

    private readonly DuckDBConnection _writer;
    private readonly DuckDBConnection _reader;
    private readonly SemaphoreSlim _readGate = new(1, 1);
    private int _disposed;

    /// <summary>How far back from its creation the recent-id filter covers ids: events sent within
    /// this long of being made skip the dedup lookup (a client's batches leave within seconds).</summary>
    internal static readonly TimeSpan RecentIdMargin = TimeSpan.FromSeconds(10);

    private readonly string _memoryLimit;
    private readonly int _recentIdCapacity;
    private RecentIdFilter? _recent;

    private readonly InstallNumbers _installNumbers = new();

    /// <param name="databasePath">The DuckDB file.</param>
    /// <param name="memoryLimit">DuckDB's memory_limit.</param>
    /// <param name="recentIdCapacity">How many ids the recent-id filter holds before it is rebuilt
    /// (about 1.2 bytes each: 8 million ≈ 9.6 MB; at 100k events/s it is rebuilt about every 80 s, loading the last 10 s of ids).</param>
    public DuckDbEventStore(string databasePath, string memoryLimit = "64MB", int recentIdCapacity = 8_000_000)
    {
        _memoryLimit = memoryLimit;
        _recentIdCapacity = recentIdCapacity;
        var directory = Path.GetDirectoryName(Path.GetFullPath(databasePath));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        _writer = new DuckDBConnection($"Data Source={databasePath}");
        _reader = new DuckDBConnection($"Data Source={databasePath}");
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _writer.OpenAsync(cancellationToken);
        // A database-wide setting; SET does not take parameters, and the value was validated at startup.
        await ExecuteAsync(_writer, $"SET memory_limit = '{_memoryLimit}'", cancellationToken);
        // DuckDB checkpoints inside a commit once the WAL passes the threshold (16MB by default, a
        // few seconds of heavy ingest): measured with bench/run-load.sh, those checkpoints took most
        // of the writer's time and set the p99. A larger WAL checkpoints far less often; the cost
        // is a longer WAL replay after a crash.
        await ExecuteAsync(_writer, "SET checkpoint_threshold = '256MB'", cancellationToken);
        var numbered = await HasInstallNumbersAsync(cancellationToken);
        await ExecuteAsync(_writer, $"""
            CREATE TABLE IF NOT EXISTS events (
            {EventColumnsDdl}
            );
            ALTER TABLE events ADD COLUMN IF NOT EXISTS country VARCHAR;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS region VARCHAR;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS ip_pseudonym VARCHAR;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS subject VARCHAR;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS duration_ms DOUBLE;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS failed BOOLEAN;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS error_code VARCHAR;
            CREATE TABLE IF NOT EXISTS install_numbers (product VARCHAR NOT NULL, install_id UUID NOT NULL, seq INTEGER NOT NULL, first_seen TIMESTAMP NOT NULL);
            CREATE TABLE IF NOT EXISTS quarantine (
                product VARCHAR NOT NULL,
                event_id UUID,
                reason_code VARCHAR NOT NULL,
                message VARCHAR NOT NULL,
                schema_ref VARCHAR,
                received_at TIMESTAMP NOT NULL,
                event_json VARCHAR NOT NULL
            );
            CREATE TEMP TABLE IF NOT EXISTS incoming_ids (product VARCHAR NOT NULL, event_id UUID NOT NULL);
            """, cancellationToken);
        if (!numbered)
        {
            await NumberInstallsAsync(cancellationToken);
        }

        await LoadInstallNumbersAsync(cancellationToken);
        await _reader.OpenAsync(cancellationToken);
        _recent = await LoadRecentIdsAsync(cancellationToken);
    }

    /// <summary>Whether the events table exists with its install numbers (a new file gets them with the table).</summary>
    private async Task<bool> HasInstallNumbersAsync(CancellationToken cancellationToken)
    {
        using var command = _writer.CreateCommand();
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
    private async Task NumberInstallsAsync(CancellationToken cancellationToken)
    {
        using (var transaction = _writer.BeginTransaction())
        {
            await ExecuteAsync(_writer, """
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
    }

    private async Task LoadInstallNumbersAsync(CancellationToken cancellationToken)
    {
        using var command = _writer.CreateCommand();
        command.CommandText = "SELECT product, install_id, seq, first_seen FROM install_numbers";
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            _installNumbers.Load(reader.GetString(0), reader.GetGuid(1), reader.GetInt32(2), reader.GetDateTime(3));
        }
    }

    /// <summary>One writer connection: one group at a time (its dedup relies on that).</summary>
    public int ConcurrentWrites => 1;

    public async Task<bool[]> WriteAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        if (_recent is null || _recent.IsFull)
        {
            _recent = await LoadRecentIdsAsync(cancellationToken);
        }

        var recent = _recent;
        var duplicate = new bool[events.Count];
        var installs = new InstallNumbers.GroupChanges();
        try
        {
            await WriteGroupAsync(events, quarantine, duplicate, recent, installs, cancellationToken);
        }
        catch
        {
            // Rolled back: what this group changed in the install numbers was not stored.
            _installNumbers.Undo(installs);
            throw;
        }

        for (var i = 0; i < events.Count; i++)
        {
            if (!duplicate[i])
            {
                recent.Add(events[i].Id);
            }
        }

        return duplicate;
    }

    private async Task WriteGroupAsync(
        IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, bool[] duplicate, RecentIdFilter recent,
        InstallNumbers.GroupChanges installs, CancellationToken cancellationToken)
    {
        using var transaction = _writer.BeginTransaction();
        var stored = await FindStoredAsync(events, duplicate, recent, transaction, cancellationToken);
        using (var appender = _writer.CreateAppender("events"))
        {
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                if (duplicate[i] || (duplicate[i] = stored.Contains((e.Product, e.Id))))
                {
                    continue;
                }

                var c = e.Context;
                appender.CreateRow()
                    .AppendValue(e.Product).AppendValue(e.Id).AppendValue(e.Name).AppendValue(e.SchemaVersion)
                    .AppendValue(e.Time.UtcDateTime).AppendValue(e.ReceivedAt.UtcDateTime)
                    .AppendValue(c.InstallId).AppendValue(c.SessionId).AppendValue(c.ProjectId).AppendValue(c.UserId)
                    .AppendValue(c.ProductVersion).AppendValue(c.InitialVersion).AppendValue(c.SdkVersion).AppendValue(c.RuntimeVersion)
                    .AppendValue(c.OsFamily).AppendValue(c.OsVersion).AppendValue(c.KernelRelease).AppendValue(c.Architecture)
                    .AppendValue(c.Ci).AppendValue(c.CiName).AppendValue(e.PropertiesJson)
                    .AppendValue(e.Country).AppendValue(e.Region).AppendValue(e.IpPseudonym)
                    .AppendValue(e.Analytics.Subject).AppendValue(e.Analytics.DurationMs).AppendValue(e.Analytics.Failed).AppendValue(e.Analytics.ErrorCode)
                    .AppendValue(_installNumbers.Number(e.Product, c.InstallId, e.Time.UtcDateTime, installs))
                    .EndRow();
            }
        }

        if (installs.Added.Count > 0)
        {
            using var appender = _writer.CreateAppender("install_numbers");
            foreach (var key in installs.Added)
            {
                var install = _installNumbers[key];
                appender.CreateRow().AppendValue(key.Product).AppendValue(key.Install).AppendValue(install.Number).AppendValue(install.FirstSeen).EndRow();
            }
        }

        foreach (var (key, _) in installs.Earlier)
        {
            var install = _installNumbers[key];
            using var command = _writer.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "UPDATE install_numbers SET first_seen = $1 WHERE seq = $2";
            Add(command, install.FirstSeen);
            Add(command, install.Number);
            command.ExecuteNonQuery();
        }

        if (quarantine.Count > 0)
        {
            using var appender = _writer.CreateAppender("quarantine");
            foreach (var q in quarantine)
            {
                appender.CreateRow()
                    .AppendValue(q.Product).AppendValue(q.EventId).AppendValue(q.ReasonCode).AppendValue(q.Message)
                    .AppendValue(q.SchemaRef).AppendValue(q.ReceivedAt.UtcDateTime).AppendValue(q.EventJson)
                    .EndRow();
            }
        }

        transaction.Commit();
    }

    /// <summary>
    /// Marks repeats within the group in <paramref name="duplicate"/> and returns the ids already in
    /// the table. Only ids the recent-id filter cannot clear are looked up: fresh ids almost never
    /// are. The lookup goes through a temp table and a semi join; ids are UUIDv7, so time-ordered,
    /// and DuckDB pushes their min/max into the scan of events, where zone maps skip every row group
    /// outside that range (an old id widens the range: a slower commit, never another outcome).
    /// </summary>
    private async Task<HashSet<(string, Guid)>> FindStoredAsync(
        IReadOnlyList<EventRecord> events, bool[] duplicate, RecentIdFilter recent, DuckDBTransaction transaction, CancellationToken cancellationToken)
    {
        var firstSeen = new HashSet<(string, Guid)>(events.Count);
        var stored = new HashSet<(string, Guid)>();
        var toCheck = 0;
        using (var ids = _writer.CreateAppender("temp", "main", "incoming_ids"))
        {
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                if (!firstSeen.Add((e.Product, e.Id)))
                {
                    duplicate[i] = true;
                }
                else if (!recent.Covers(e.Id) || recent.MayContain(e.Id))
                {
                    ids.CreateRow().AppendValue(e.Product).AppendValue(e.Id).EndRow();
                    toCheck++;
                }
            }
        }

        if (toCheck == 0)
        {
            return stored;
        }

        using (var command = _writer.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                SELECT e.product, e.event_id FROM events e
                SEMI JOIN incoming_ids i ON e.product = i.product AND e.event_id = i.event_id
                """;
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stored.Add((reader.GetString(0), reader.GetGuid(1)));
            }
        }

        await ExecuteAsync(_writer, "DELETE FROM incoming_ids", cancellationToken);
        return stored;
    }

    /// <summary>
    /// A new recent-id filter covering ids from <see cref="RecentIdMargin"/> ago, filled with the
    /// stored ids it covers (a scan of the newest row groups only: ids are stored roughly in order).
    /// </summary>
    private async Task<RecentIdFilter> LoadRecentIdsAsync(CancellationToken cancellationToken)
    {
        var filter = new RecentIdFilter(_recentIdCapacity, RecentIdFilter.BoundAt(DateTimeOffset.UtcNow - RecentIdMargin));
        using var command = _writer.CreateCommand();
        command.CommandText = "SELECT event_id FROM events WHERE event_id >= $1";
        Add(command, filter.Bound);
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            filter.Add(reader.GetGuid(0));
        }

        return filter;
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadRecentAsync(string product, int limit, CancellationToken cancellationToken)
    {
        await _readGate.WaitAsync(cancellationToken);
        try
        {
            using var command = _reader.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM events WHERE product = $1 ORDER BY received_at DESC, event_id DESC LIMIT $2";
            Add(command, product);
            Add(command, limit);
            var list = new List<StoredEvent>();
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(ReadEvent(reader));
            }

            return list;
        }
        finally
        {
            _readGate.Release();
        }
    }

    public async Task<IReadOnlyList<QuarantineRecord>> ReadQuarantineAsync(string product, int limit, CancellationToken cancellationToken)
    {
        await _readGate.WaitAsync(cancellationToken);
        try
        {
            using var command = _reader.CreateCommand();
            command.CommandText = $"SELECT {QuarantineRecord.Columns} FROM quarantine WHERE product = $1 ORDER BY received_at DESC LIMIT $2";
            Add(command, product);
            Add(command, limit);
            var list = new List<QuarantineRecord>();
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(QuarantineRecord.Read(reader));
            }

            return list;
        }
        finally
        {
            _readGate.Release();
        }
    }

    public async Task<QuarantineSummary> SummarizeQuarantineAsync(string product, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await _readGate.WaitAsync(cancellationToken);
        try
        {
            using var command = _reader.CreateCommand();
            command.CommandText = QuarantineSummary.Sql;
            Add(command, product);
            Add(command, from.UtcDateTime);
            Add(command, to.UtcDateTime);
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await QuarantineSummary.ReadAsync(reader, cancellationToken);
        }
        finally
        {
            _readGate.Release();
        }
    }

    public async Task<bool> HasEventsAsync(CancellationToken cancellationToken)
    {
        await _readGate.WaitAsync(cancellationToken);
        try
        {
            using var command = _reader.CreateCommand();
            command.CommandText = "SELECT EXISTS (SELECT 1 FROM events)";
            return Convert.ToBoolean(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        finally
        {
            _readGate.Release();
        }
    }

    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        await _readGate.WaitAsync(cancellationToken);
        try
        {
            using var command = _reader.CreateCommand();
            command.CommandText = "SELECT 1";
            return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 1;
        }
        catch (DuckDBException)
        {
            return false;
        }
        finally
        {
            _readGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Registered under several service types, so the container disposes it more than once.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _readGate.WaitAsync();
        try
        {
            await _reader.DisposeAsync();
            await _writer.DisposeAsync();
        }
        finally
        {
            _readGate.Release();
            _readGate.Dispose();
        }
    }

    internal static StoredEvent ReadEvent(DbDataReader reader) => new()
    {
        Id = reader.GetGuid(1),
        Name = reader.GetString(2),
        Version = NullableString(reader, 3),
        Time = Utc(reader.GetDateTime(4)),
        ReceivedAt = Utc(reader.GetDateTime(5)),
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
        Properties = reader.IsDBNull(20)
            ? null
            : JsonSerializer.Deserialize(reader.GetString(20), CollectorJsonContext.Default.IDictionaryStringPropertyValue),
        Country = NullableString(reader, 21),
        Region = NullableString(reader, 22),
        IpPseudonym = NullableString(reader, 23),
    };

    internal static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static async Task ExecuteAsync(DuckDBConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Add(DuckDBCommand command, object? value) =>
        command.Parameters.Add(new DuckDBParameter(value ?? DBNull.Value));

    internal static string? NullableString(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
