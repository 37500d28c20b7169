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

    // Checkpoints (see WriteAsync): the store starts one itself once the WAL passes this size, on its
    // own thread, and acknowledges groups from the journal while it runs.
    private readonly string _walPath;
    private readonly string _journalPath;
    private readonly long _checkpointWalBytes;
    private Task? _checkpoint;
    private CheckpointJournal? _journal;
    private CheckpointJournal.Reader? _draining;
    private (List<EventRecord> Events, List<QuarantineRecord> Quarantine)? _chunk;
    private readonly HashSet<(string, Guid)> _journaledIds = [];

    /// <summary>How many events one checkpoint's journal takes (about 3 s at 50k events/s); later
    /// groups wait for the checkpoint, as they all did before the journal. Bounds the memory the
    /// journal's ids take (about 5 MB) and the drain after it.</summary>
    private const int MaxJournaledEvents = 150_000;

    /// <summary>How many journaled events each group after a checkpoint carries into the database
    /// with it: the journal drains in a few seconds without one long commit holding up the rest.</summary>
    private const int DrainChunkEvents = 500;

    private DateTimeOffset _nextCheckpointAt;

    // DuckDB's worker threads outside checkpoints (its default: one per core), read at startup.
    private long _threads;

    /// <summary>Why the last checkpoint the store started failed, if it did (for tests and diagnostics).</summary>
    internal string? LastCheckpointError { get; private set; }

    /// <summary>The checkpoint the store started, until the next write after it ends.</summary>
    internal Task RunningCheckpoint => _checkpoint ?? Task.CompletedTask;

    /// <summary>A test's hold on the next checkpoint: it starts when this task completes.</summary>
    internal Task? CheckpointGate { get; set; }

    /// <param name="databasePath">The DuckDB file.</param>
    /// <param name="memoryLimit">DuckDB's memory_limit.</param>
    /// <param name="recentIdCapacity">How many ids the recent-id filter holds before it is rebuilt
    /// (about 1.2 bytes each: 8 million ≈ 9.6 MB; at 100k events/s it is rebuilt about every 80 s, loading the last 10 s of ids).</param>
    /// <param name="checkpointWalBytes">The WAL size at which the store checkpoints (128 MB: a checkpoint
    /// about every 10 s at 50k events/s, each taking about 1–2 s on two cores); 0 leaves it to DuckDB.</param>
    public DuckDbEventStore(string databasePath, string memoryLimit = "64MB", int recentIdCapacity = 8_000_000, long checkpointWalBytes = 128L << 20)
    {
        _memoryLimit = memoryLimit;
        _recentIdCapacity = recentIdCapacity;
        _checkpointWalBytes = checkpointWalBytes;
        _walPath = databasePath + ".wal";
        _journalPath = databasePath + ".journal";
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
        using (var threads = _writer.CreateCommand())
        {
            threads.CommandText = "SELECT current_setting('threads')";
            _threads = Convert.ToInt64(await threads.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }

        // DuckDB checkpoints inside a commit once the WAL passes its threshold, and every write waits
        // for it. The store checkpoints itself instead (WriteAsync), at a smaller WAL size; DuckDB's
        // own threshold stays as a backstop, far above it.
        var backstop = _checkpointWalBytes > 0 ? Math.Max(1, (_checkpointWalBytes * 4) >> 20) : 256;
        await ExecuteAsync(_writer, $"SET checkpoint_threshold = '{backstop}MB'", cancellationToken);
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
        if (File.Exists(_journalPath))
        {
            // Left by a crash during a checkpoint or its drain: acknowledged groups, maybe not yet stored.
            _draining = new CheckpointJournal.Reader(_journalPath);
            await DrainJournalAsync(cancellationToken);
        }
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

    /// <summary>
    /// Stores a group. While a checkpoint runs (started here once the WAL passes its size, on another
    /// thread, since it blocks every write to the database), groups go to the checkpoint journal instead
    /// and are acknowledged once it is on disk: their duplicates are found without the writer's
    /// connection (the recent-id filter, the ids journaled so far, and a lookup on the reader's, which
    /// a checkpoint does not block). The first group after the checkpoint applies the journal first.
    /// </summary>
    public async Task<bool[]> WriteAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        if (_checkpoint is { IsCompleted: false } && _recent is { IsFull: false } recentNow && _journal is { Broken: false } &&
            _journaledIds.Count + events.Count <= MaxJournaledEvents)
        {
            return await JournalAsync(events, quarantine, recentNow, cancellationToken);
        }

        if (_checkpoint is not null)
        {
            await FinishCheckpointAsync();
        }

        bool[] duplicates;
        if (_draining is null)
        {
            duplicates = await CommitAsync(events, quarantine, cancellationToken);
        }
        else
        {
            duplicates = await CommitWithJournalChunkAsync(events, quarantine, cancellationToken);
        }

        if (_draining is null && _checkpointWalBytes > 0 && DateTimeOffset.UtcNow >= _nextCheckpointAt && WalBytes() >= _checkpointWalBytes)
        {
            StartCheckpoint();
        }

        return duplicates;
    }

    /// <summary>A checkpoint running, or its journal not yet drained.</summary>
    public bool HasDeferredWork => _checkpoint is not null || _draining is not null;

    /// <summary>Once the checkpoint is done, drains its journal without waiting for another group.</summary>
    public Task CatchUpAsync(CancellationToken cancellationToken) =>
        _checkpoint is { IsCompleted: false } ? Task.CompletedTask : FinishCheckpointAndDrainAsync(cancellationToken);

    /// <summary>Waits for a running checkpoint, then drains the whole journal.</summary>
    private async Task FinishCheckpointAndDrainAsync(CancellationToken cancellationToken)
    {
        if (_checkpoint is not null)
        {
            await FinishCheckpointAsync();
        }

        await DrainJournalAsync(cancellationToken);
    }

    /// <summary>Commits the group together with the journal's next chunk; the group's events that were
    /// already acknowledged from the journal are its duplicates.</summary>
    private async Task<bool[]> CommitWithJournalChunkAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        // Kept until committed: a failed commit leaves it for the next group to carry.
        _chunk ??= _draining!.ReadChunk(DrainChunkEvents);
        var combined = new List<EventRecord>(_chunk.Value.Events.Count + events.Count);
        combined.AddRange(_chunk.Value.Events);
        var duplicates = new bool[events.Count];
        var fromGroup = new List<int>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            if (_journaledIds.Contains((events[i].Product, events[i].Id)))
            {
                duplicates[i] = true;
            }
            else
            {
                fromGroup.Add(i);
                combined.Add(events[i]);
            }
        }

        var committed = await CommitAsync(combined, [.. _chunk.Value.Quarantine, .. quarantine], cancellationToken);
        _chunk = null;
        var offset = combined.Count - fromGroup.Count;
        for (var j = 0; j < fromGroup.Count; j++)
        {
            duplicates[fromGroup[j]] = committed[offset + j];
        }

        if (_draining!.AtEnd)
        {
            EndDrain();
        }

        return duplicates;
    }

    private async Task DrainJournalAsync(CancellationToken cancellationToken)
    {
        while (_draining is { } draining)
        {
            _chunk ??= draining.ReadChunk(DrainChunkEvents);
            // Through the full dedup: after a crash, some of these may already be stored.
            await CommitAsync(_chunk.Value.Events, _chunk.Value.Quarantine, cancellationToken);
            _chunk = null;
            if (draining.AtEnd)
            {
                EndDrain();
            }
        }
    }

    private void EndDrain()
    {
        _draining!.Dispose();
        _draining = null;
        File.Delete(_journalPath);
        _journaledIds.Clear();
    }

    /// <summary>
    /// Runs DuckDB's checkpoint on the calling thread (the store's checkpoint thread) with DuckDB's
    /// worker threads held to that one until it ends. With its default of one worker per core, a
    /// checkpoint takes every core of a small machine for a second or two, and each worker keeps
    /// its own allocation caches: on two cores under full ingest, one thread gave the same throughput
    /// and about 20 MB less peak memory (docs/operator-guide.md § Load testing, session 10). Requests
    /// are acknowledged from the journal meanwhile, so a slower checkpoint holds up nothing; analytics
    /// queries that run during it get one thread too.
    /// </summary>
    private void Checkpoint(Task? gate)
    {
        using var command = _writer.CreateCommand();
        if (_threads > 1)
        {
            command.CommandText = "SET threads = 1";
            command.ExecuteNonQuery();
        }

        try
        {
            gate?.GetAwaiter().GetResult();
            command.CommandText = "CHECKPOINT";
            command.ExecuteNonQuery();
        }
        finally
        {
            if (_threads > 1)
            {
                command.CommandText = $"SET threads = {_threads}";
                command.ExecuteNonQuery();
            }
        }
    }

    private long WalBytes()
    {
        var wal = new FileInfo(_walPath);
        return wal.Exists ? wal.Length : 0;
    }

    private void StartCheckpoint()
    {
        try
        {
            _journal = CheckpointJournal.Create(_journalPath);
        }
        catch (IOException ex)
        {
            // The group is committed; only the checkpoint is put off (DuckDB's own threshold remains).
            _nextCheckpointAt = DateTimeOffset.UtcNow.AddSeconds(30);
            LastCheckpointError = ex.Message;
            return;
        }

        // Sized once, at the first checkpoint (Clear keeps it): a store that never checkpoints (a
        // small collector, candor report) does not pay for it.
        _journaledIds.EnsureCapacity(MaxJournaledEvents);
        var gate = CheckpointGate;
        CheckpointGate = null;
        // Its own thread (LongRunning): DuckDB's CHECKPOINT blocks the calling thread for seconds,
        // which should not be one of the thread pool's that serve requests.
        _checkpoint = Task.Factory.StartNew(() => Checkpoint(gate), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Waits for the checkpoint, then starts draining its journal into the database.</summary>
    private async Task FinishCheckpointAsync()
    {
        try
        {
            await _checkpoint!;
        }
#pragma warning disable CA1031 // Whatever the checkpoint threw, the journal must still be drained.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Not fatal: DuckDB's own threshold and its close checkpoint remain. Not retried at once,
            // so a checkpoint that keeps failing does not send every group through the journal.
            _nextCheckpointAt = DateTimeOffset.UtcNow.AddSeconds(30);
            LastCheckpointError = ex.Message;
        }

        _checkpoint = null;
        _journal!.Dispose();
        _journal = null;
        _draining = new CheckpointJournal.Reader(_journalPath);
    }

    /// <summary>
    /// Acknowledges a group from the journal while a checkpoint holds the database. Duplicates are
    /// decided as <see cref="CommitAsync"/> decides them, but against the ids journaled so far and,
    /// for the ids the recent-id filter cannot clear, with a lookup on the reader connection.
    /// </summary>
    private async Task<bool[]> JournalAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, RecentIdFilter recent, CancellationToken cancellationToken)
    {
        var duplicate = new bool[events.Count];
        var toCheck = ToLookUp(events, duplicate, recent, _journaledIds);
        if (toCheck.Count > 0)
        {
            var stored = await StoredAmongAsync([.. toCheck.Select(i => events[i].Id)], cancellationToken);
            for (var i = 0; i < events.Count; i++)
            {
                duplicate[i] |= stored.Contains((events[i].Product, events[i].Id));
            }
        }

        var accepted = new List<EventRecord>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            if (!duplicate[i])
            {
                accepted.Add(events[i]);
            }
        }

        _journal!.Append(accepted, quarantine);
        foreach (var e in accepted)
        {
            _journaledIds.Add((e.Product, e.Id));
            recent.Add(e.Id);
        }

        return duplicate;
    }

    /// <summary>Which of these ids are stored (with their product), read on the reader connection.</summary>
    private async Task<HashSet<(string, Guid)>> StoredAmongAsync(List<Guid> ids, CancellationToken cancellationToken)
    {
        var stored = new HashSet<(string, Guid)>();
        await _readGate.WaitAsync(cancellationToken);
        try
        {
            using var command = _reader.CreateCommand();
            var parameters = new System.Text.StringBuilder();
            for (var i = 0; i < ids.Count; i++)
            {
                parameters.Append(i == 0 ? "$1" : $", ${i + 1}");
                Add(command, ids[i]);
            }

            command.CommandText = $"SELECT product, event_id FROM events WHERE event_id IN ({parameters})";
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stored.Add((reader.GetString(0), reader.GetGuid(1)));
            }
        }
        finally
        {
            _readGate.Release();
        }

        return stored;
    }

    private async Task<bool[]> CommitAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
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
    /// The dedup rule both write paths share: marks in <paramref name="duplicate"/> the events that repeat
    /// one earlier in the group (or one in <paramref name="alreadyTaken"/>), and returns the indexes of
    /// those only the table can settle — ids below the recent-id filter's bound or that it may hold.
    /// </summary>
    private static List<int> ToLookUp(IReadOnlyList<EventRecord> events, bool[] duplicate, RecentIdFilter recent, HashSet<(string, Guid)>? alreadyTaken)
    {
        var firstSeen = new HashSet<(string, Guid)>(events.Count);
        var toCheck = new List<int>();
        for (var i = 0; i < events.Count; i++)
        {
            var key = (events[i].Product, events[i].Id);
            if (!firstSeen.Add(key) || alreadyTaken?.Contains(key) == true)
            {
                duplicate[i] = true;
            }
            else if (!recent.Covers(key.Id) || recent.MayContain(key.Id))
            {
                toCheck.Add(i);
            }
        }

        return toCheck;
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
        var stored = new HashSet<(string, Guid)>();
        var toCheck = ToLookUp(events, duplicate, recent, alreadyTaken: null);
        if (toCheck.Count == 0)
        {
            return stored;
        }

        using (var ids = _writer.CreateAppender("temp", "main", "incoming_ids"))
        {
            foreach (var i in toCheck)
            {
                ids.CreateRow().AppendValue(events[i].Product).AppendValue(events[i].Id).EndRow();
            }
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

        if (_checkpoint is not null || _draining is not null)
        {
            try
            {
                // Drained now rather than at the next open, so the file is complete when it closes.
                await FinishCheckpointAndDrainAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is DuckDBException or IOException)
            {
                // The journal stays, and the next open applies it.
            }
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
