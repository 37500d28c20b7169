using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Candor.Protocol;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging.Abstractions;

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

    // The write-ahead path (see WriteAsync): the writer's thread journals each group and answers;
    // the applier thread commits the journal's groups to DuckDB behind it and runs the checkpoints.
    private readonly string _walPath;
    private readonly string _journalPath;
    private readonly long _checkpointWalBytes;
    private readonly Lock _sync = new();
    private readonly Queue<Segment> _segments = new(); // _sync: journal files not yet applied and deleted, oldest first
    private readonly HashSet<(string, Guid)> _pending = []; // _sync: ids journaled and not yet applied
    // Journal bytes written and flushed, and read and applied, over every file (written under _sync): byte
    // counts rather than groups, since the reader may skip what it cannot read and a group may span records.
    private long _accepted;
    private long _applied;
    private TaskCompletionSource _progress = NewProgress(); // _sync: completed whenever the applier commits
    private readonly ManualResetEventSlim _wake = new(false);
    private Segment? _segment; // the writer's current journal file
    private int _segmentNumber;
    private Task _applier = Task.CompletedTask;
    private volatile bool _stopping;
    private TaskCompletionSource? _checkpointRunning;

    /// <summary>One journal file: its path, the writer's handle while open, and how much of it is flushed.</summary>
    private sealed class Segment(string path, IngestJournal journal)
    {
        public string Path { get; } = path;

        public IngestJournal Journal { get; } = journal;

        /// <summary>Bytes flushed: complete groups, safe to read back (Volatile).</summary>
        public long Durable;

        /// <summary>Set once the writer has moved on to the next file: <see cref="Durable"/> is then final.</summary>
        public volatile bool Closed;
    }

    /// <summary>How many events may be acknowledged and not yet applied (several seconds of full ingest:
    /// a checkpoint's worth); a group beyond that waits for the applier. Bounds the memory their ids
    /// take (about 8 MB) and how far the database falls behind the answers.</summary>
    private const int MaxPendingEvents = 200_000;

    /// <summary>How many journaled events the applier commits at once: large enough that a commit's
    /// fixed cost (≈ 4.7 ms here) is small per event, small enough to hold few events in memory.</summary>
    private const int ApplyChunkEvents = 5_000;

    /// <summary>How many journal bytes the applier commits at once, whatever the events' size: what
    /// DuckDB holds for one commit stays well inside its memory limit (journal records are about 1 MB).</summary>
    private const long ApplyChunkBytes = 8L << 20;

    /// <summary>How many times a chunk fails as a whole before it is applied part by part (<see cref="ApplySplitter"/>).</summary>
    private const int SplitAfterFailures = 3;

    private readonly JournalBounds _bounds;
    private readonly ApplySplitter _splitter;

    private readonly long _segmentBytes;

    /// <summary>How long a group waits for room in the journal, and a read for the applier, before
    /// giving up (the applier is failing: see <see cref="LastApplyError"/>).</summary>
    private static readonly TimeSpan StorageWait = TimeSpan.FromSeconds(30);

    private DateTimeOffset _nextCheckpointAt;

    // DuckDB's worker threads outside checkpoints (its default: one per core), read at startup.
    private long _threads;

    /// <summary>Why the last checkpoint the store started failed, if it did (for tests and diagnostics).</summary>
    internal string? LastCheckpointError { get; private set; }

    /// <summary>Why the applier's last commit failed, if it did; it is tried again.</summary>
    internal string? LastApplyError { get; private set; }

    // Whether the applier's last attempt failed: the store is then not ready (/readyz).
    private volatile bool _applyFailing;

    /// <summary>The checkpoint the applier is running, or a completed task.</summary>
    internal Task RunningCheckpoint => _checkpointRunning?.Task ?? Task.CompletedTask;

    /// <summary>A test's hold on the next checkpoint: it starts when this task completes.</summary>
    internal Task? CheckpointGate { get; set; }

    /// <summary>A test's fault: called before each commit of the applier, of a chunk or part of one (throw to fail it).</summary>
    internal Action? BeforeApply { get; set; }

    /// <summary>What could not be taken from the journal as written: skipped, cut, quarantined.</summary>
    internal JournalDiagnostics Journal { get; }

    /// <param name="databasePath">The DuckDB file.</param>
    /// <param name="memoryLimit">DuckDB's memory_limit.</param>
    /// <param name="recentIdCapacity">How many ids the recent-id filter holds before it is rebuilt
    /// (about 1.2 bytes each: 8 million ≈ 9.6 MB; at 100k events/s it is rebuilt about every 80 s, loading the last 10 s of ids).</param>
    /// <param name="checkpointWalBytes">The WAL size at which the store checkpoints (128 MB: a checkpoint
    /// about every 10 s at 50k events/s, each taking about 1–2 s on two cores); 0 leaves it to DuckDB.</param>
    /// <param name="journalSegmentBytes">The size past which the journal moves to a new file (applied files are deleted).</param>
    /// <param name="bounds">The longest strings taken from the journal (<see cref="JournalBounds.Default"/>: ingest's defaults).</param>
    /// <param name="logger">Where skipped journal records and refused rows are reported.</param>
    public DuckDbEventStore(
        string databasePath, string memoryLimit = "48MB", int recentIdCapacity = 8_000_000, long checkpointWalBytes = 128L << 20, long journalSegmentBytes = 64L << 20,
        JournalBounds? bounds = null, ILogger<DuckDbEventStore>? logger = null)
    {
        _bounds = bounds ?? JournalBounds.Default;
        Journal = new JournalDiagnostics(logger ?? (ILogger)NullLogger.Instance);
        _splitter = new ApplySplitter(_bounds, Journal);
        _segmentBytes = journalSegmentBytes;
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
        await ExecuteAsync(_writer, DuckDbSchema.CreateTables, cancellationToken);
        if (!numbered)
        {
            await NumberInstallsAsync(cancellationToken);
        }

        await LoadInstallNumbersAsync(cancellationToken);
        await _reader.OpenAsync(cancellationToken);
        _recent = await LoadRecentIdsAsync(fromReader: false, cancellationToken);
        await ApplyLeftJournalsAsync(cancellationToken);
        // Its own thread (LongRunning): DuckDB's calls block for milliseconds (a checkpoint for seconds).
        _applier = Task.Factory.StartNew(RunApplier, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Journal files a crash (or a failing disk at shutdown) left: acknowledged groups, maybe
    /// not all stored. Applied in order through the full dedup, then deleted. What cannot be read is
    /// skipped and reported; a chunk DuckDB refuses is applied part by part (<see cref="ApplySplitter"/>),
    /// so no journal content keeps the store from opening.</summary>
    private async Task ApplyLeftJournalsAsync(CancellationToken cancellationToken)
    {
        foreach (var path in JournalFiles(_journalPath))
        {
            using (var reader = new IngestJournal.Reader(path, _bounds))
            {
                while (!reader.AtEnd)
                {
                    var chunk = Journal.Read(reader.ReadChunk(ApplyChunkEvents, ApplyChunkBytes));
                    if (chunk.Events.Count + chunk.Quarantine.Count == 0)
                    {
                        continue;
                    }

                    try
                    {
                        await CommitAsync(chunk.Events, chunk.Quarantine, cancellationToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Nothing else is waiting at open: part by part at once (each part deduplicated again).
                        DuckDbStoreLog.Splitting(Journal.Logger, ex, 1);
                        await _splitter.ApplyAsync(chunk, (events, quarantine) => CommitAsync(events, quarantine, cancellationToken));
                    }
                }
            }

            File.Delete(path);
        }
    }

    /// <summary>Whether journal files are left beside the DuckDB file (a crash): opening the store applies them.</summary>
    internal static bool HasJournal(string databasePath) => JournalFiles(databasePath + ".journal").Count > 0;

    /// <summary>The journal files at <paramref name="journalPath"/> (the first) and numbered after it, in order.</summary>
    private static List<string> JournalFiles(string journalPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(journalPath))!;
        var name = Path.GetFileName(journalPath);
        if (!Directory.Exists(directory))
        {
            return [];
        }

        return Directory.EnumerateFiles(directory, name + "*")
            .Select(path => (Path: path, Suffix: Path.GetFileName(path)[name.Length..]))
            .Select(f => (f.Path, Number: f.Suffix.Length == 0 ? 1 : f.Suffix[0] == '.' && int.TryParse(f.Suffix[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1))
            .Where(f => f.Number > 0)
            .OrderBy(f => f.Number)
            .Select(f => f.Path)
            .ToList();
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

    /// <summary>One writer thread: one group at a time (its dedup relies on that).</summary>
    public int ConcurrentWrites => 1;

    /// <summary>
    /// Accepts a group: finds its duplicates, appends the rest to the journal, flushes it to disk and
    /// returns — the group is durable and will be applied. The applier thread commits the journal's
    /// groups to DuckDB behind the answers, in chunks of <see cref="ApplyChunkEvents"/> (or
    /// <see cref="ApplyChunkBytes"/>), and runs the checkpoints, so neither a commit nor a checkpoint holds up a request. Duplicates are those of
    /// an earlier event in the group, of an event journaled and not yet applied, or of one stored:
    /// the recent-id filter clears fresh ids, and the rest are looked up on the reader's connection
    /// (a checkpoint does not block it). Reads through this store and its analytics first wait for
    /// the applier to store what was acknowledged before them (<see cref="WaitForStoredAsync"/>).
    /// </summary>
    public async Task<bool[]> WriteAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (_recent!.IsFull)
        {
            _recent = await LoadRecentIdsAsync(fromReader: true, cancellationToken);
        }

        var recent = _recent;
        await WaitForRoomAsync(events.Count, cancellationToken);
        var duplicate = new bool[events.Count];
        List<int> toCheck;
        lock (_sync)
        {
            toCheck = ToLookUp(events, duplicate, recent, _pending);
        }

        if (toCheck.Count > 0)
        {
            var stored = await StoredAmongAsync([.. toCheck.Select(i => events[i].Id)], cancellationToken);
            foreach (var i in toCheck)
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

        if (accepted.Count == 0 && quarantine.Count == 0)
        {
            return duplicate;
        }

        var segment = CurrentSegment();
        segment.Journal.Append(accepted, quarantine);
        lock (_sync)
        {
            foreach (var e in accepted)
            {
                _pending.Add((e.Product, e.Id));
            }

            var durable = segment.Journal.Length;
            _accepted += durable - segment.Durable;
            Volatile.Write(ref segment.Durable, durable);
            Operations.CollectorMetrics.PendingEvents.Set(_pending.Count);
        }

        foreach (var e in accepted)
        {
            recent.Add(e.Id);
        }

        _wake.Set();
        return duplicate;
    }

    /// <summary>Waits while the journal holds <see cref="MaxPendingEvents"/> events not yet applied.</summary>
    private async Task WaitForRoomAsync(int events, CancellationToken cancellationToken)
    {
        if (!await WaitForApplierAsync(() => _pending.Count == 0 || _pending.Count + events <= MaxPendingEvents, cancellationToken))
        {
            throw new IOException($"DuckDB has not stored the events acknowledged before these for {StorageWait.TotalSeconds:F0} s: {LastApplyError ?? "no error reported"}.");
        }
    }

    /// <summary>
    /// Waits until every group acknowledged before the call is stored in the database, so a read sees
    /// what was acknowledged before it — at most <see cref="StorageWait"/> (the applier is failing:
    /// the read then sees what is stored). Usually immediate or a few milliseconds; during a checkpoint
    /// up to its end (one to three seconds).
    /// </summary>
    public async Task WaitForStoredAsync(CancellationToken cancellationToken)
    {
        var target = Volatile.Read(ref _accepted);
        await WaitForApplierAsync(() => _applied >= target, cancellationToken);
    }

    /// <summary>Waits, at most <see cref="StorageWait"/>, until <paramref name="done"/> (checked under
    /// <see cref="_sync"/>, again after each of the applier's commits) holds; returns whether it did.</summary>
    private async Task<bool> WaitForApplierAsync(Func<bool> done, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StorageWait;
        while (true)
        {
            Task progress;
            lock (_sync)
            {
                if (done())
                {
                    return true;
                }

                progress = _progress.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await progress.WaitAsync(left, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Checked once more above, then given up.
            }
        }
    }

    private static TaskCompletionSource NewProgress() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The journal file to append to: a new one once the current is full or broken.</summary>
    private Segment CurrentSegment()
    {
        if (_segment is { } current && current.Journal.Length < _segmentBytes && !current.Journal.Broken)
        {
            return current;
        }

        var number = ++_segmentNumber;
        var path = number == 1 ? _journalPath : _journalPath + "." + number.ToString(CultureInfo.InvariantCulture);
        var next = new Segment(path, IngestJournal.Create(path)); // if this throws, the group is refused
        if (_segment is { } old)
        {
            Close(old);
        }

        lock (_sync)
        {
            _segments.Enqueue(next);
        }

        _segment = next;
        return next;
    }

    private void Close(Segment segment)
    {
        segment.Journal.Dispose();
        segment.Closed = true;
        _wake.Set();
    }

    /// <summary>
    /// The applier: reads the journal's flushed groups, oldest first, and commits them to DuckDB in
    /// chunks; deletes each journal file once it is closed and applied; checkpoints when the WAL passes
    /// its size. A failed commit is retried (the chunk is kept), part by part after
    /// <see cref="SplitAfterFailures"/> failures; groups keep being acknowledged from the journal until
    /// <see cref="MaxPendingEvents"/>. Ends when the store is disposed and every journal file is applied
    /// (or a commit keeps failing then: the files stay, and the next open applies them).
    /// </summary>
    private void RunApplier()
    {
        IngestJournal.Reader? reader = null; // on the oldest journal file
        IngestJournal.Chunk? chunk = null; // read and not yet committed: kept when a commit fails
        var failures = 0;
        Exception? lastError = null;
        while (true)
        {
            _wake.Reset();
            try
            {
                var finishedFile = false;
                chunk ??= NextChunk(ref reader, out finishedFile);
                if (chunk is null)
                {
                    if (finishedFile)
                    {
                        continue;
                    }

                    if (_stopping && !HasSegments())
                    {
                        break;
                    }

                    Idle();
                    continue;
                }

                if (failures == SplitAfterFailures && lastError is not null)
                {
                    DuckDbStoreLog.Splitting(Journal.Logger, lastError, failures);
                }

                Apply(chunk, split: failures >= SplitAfterFailures);
                chunk = null;
                failures = 0;
                MaybeCheckpoint();
            }
#pragma warning disable CA1031 // Whatever failed, the chunk stays and is tried again; groups are still journaled meanwhile.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _applyFailing = true;
                LastApplyError = ex.Message;
                lastError = ex;
                if (++failures >= 3 && _stopping)
                {
                    break; // the journal files stay, and the next open applies them
                }

                Thread.Sleep(Math.Min(5000, 100 << Math.Min(failures, 6)));
            }
        }

        reader?.Dispose();
    }

    private bool HasSegments()
    {
        lock (_sync)
        {
            return _segments.Count > 0;
        }
    }

    /// <summary>The next flushed groups of the oldest journal file, or null: nothing new yet, or
    /// (<paramref name="finishedFile"/>) that file was closed, is applied, and is now deleted.</summary>
    private IngestJournal.Chunk? NextChunk(ref IngestJournal.Reader? reader, out bool finishedFile)
    {
        finishedFile = false;
        Segment? segment;
        lock (_sync)
        {
            _segments.TryPeek(out segment);
        }

        if (segment is null)
        {
            return null;
        }

        var closed = segment.Closed; // read before the length: a closed file's length is final
        var durable = Volatile.Read(ref segment.Durable);
        reader ??= new IngestJournal.Reader(segment.Path, _bounds);
        if (reader.Position < durable)
        {
            var chunk = Journal.Read(reader.ReadChunk(ApplyChunkEvents, ApplyChunkBytes, durable));
            return chunk.Bytes > 0 ? chunk : throw new InvalidDataException($"{segment.Path} cannot be read at offset {reader.Position}.");
        }

        if (!closed)
        {
            return null;
        }

        reader.Dispose();
        reader = null;
        lock (_sync)
        {
            _segments.Dequeue();
        }

        finishedFile = true;
        try
        {
            File.Delete(segment.Path);
        }
        catch (IOException ex)
        {
            // Applied: if it stays, the next open applies it again, and dedup makes that harmless.
            LastApplyError = ex.Message;
        }

        return null;
    }

    /// <summary>Nothing to apply: checkpoint if due, then wait for the writer.</summary>
    private void Idle()
    {
        MaybeCheckpoint();
        _wake.Wait(TimeSpan.FromMilliseconds(250));
    }

    /// <summary>Commits a chunk of journaled groups (their duplicates were settled when they were
    /// journaled), whole or (<paramref name="split"/>) part by part, then lets their ids go from the
    /// pending set: they are in the table now.</summary>
    private void Apply(IngestJournal.Chunk chunk, bool split)
    {
        if (chunk.Events.Count + chunk.Quarantine.Count > 0)
        {
            (split ? _splitter.ApplyAsync(chunk, CommitJournaledAsync) : CommitJournaledAsync(chunk.Events, chunk.Quarantine)).GetAwaiter().GetResult();
        }

        _applyFailing = false;
        lock (_sync)
        {
            foreach (var e in chunk.Events)
            {
                _pending.Remove((e.Product, e.Id));
            }

            foreach (var key in chunk.Released)
            {
                _pending.Remove(key);
            }

            _applied += chunk.Bytes;
            if (_applied == _accepted)
            {
                // All applied, so nothing is pending: also lets go of an id whose product was cut on reading.
                _pending.Clear();
            }

            _progress.SetResult();
            _progress = NewProgress();
            Operations.CollectorMetrics.PendingEvents.Set(_pending.Count);
        }
    }

    /// <summary>Commits journaled events in one transaction, without looking for duplicates.</summary>
    private async Task CommitJournaledAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine)
    {
        BeforeApply?.Invoke();
        var installs = new InstallNumbers.GroupChanges();
        try
        {
            await WriteGroupAsync(events, quarantine, new bool[events.Count], recent: null, installs, CancellationToken.None);
        }
        catch
        {
            // Rolled back: what this commit changed in the install numbers was not stored.
            _installNumbers.Undo(installs);
            throw;
        }
    }

    /// <summary>Checkpoints on the applier's thread once the WAL passes its size (DuckDB's own
    /// threshold stays as a backstop); requests are acknowledged from the journal meanwhile.</summary>
    private void MaybeCheckpoint()
    {
        if (_checkpointWalBytes <= 0 || DateTimeOffset.UtcNow < _nextCheckpointAt || WalBytes() < _checkpointWalBytes)
        {
            return;
        }

        var running = _checkpointRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = CheckpointGate;
        CheckpointGate = null;
        try
        {
            Checkpoint(gate);
        }
#pragma warning disable CA1031 // Not fatal: DuckDB's own threshold and its close checkpoint remain.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Not retried at once, so a checkpoint that keeps failing does not hold up the applier.
            _nextCheckpointAt = DateTimeOffset.UtcNow.AddSeconds(30);
            LastCheckpointError = ex.Message;
        }
        finally
        {
            running.SetResult();
        }
    }

    /// <summary>
    /// Runs DuckDB's checkpoint on the calling thread (the applier's) with DuckDB's worker threads held
    /// to that one until it ends. With its default of one worker per core, a checkpoint takes every
    /// core of a small machine for a second or two, and each worker keeps its own allocation caches:
    /// on two cores under full ingest, one thread gave the same throughput and about 20 MB less peak
    /// memory (bench/results/load-testing-history.md, run 10). Requests are acknowledged from the
    /// journal meanwhile, so a slower checkpoint holds up nothing; analytics queries that run during
    /// it get one thread too.
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

    /// <summary>Commits a group directly, with the full dedup in its transaction: for journals a crash
    /// left, applied at open before the applier starts.</summary>
    private async Task<bool[]> CommitAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        if (_recent is null || _recent.IsFull)
        {
            _recent = await LoadRecentIdsAsync(fromReader: false, cancellationToken);
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

    /// <summary>Writes a group in one transaction; with <paramref name="recent"/>, first finds its
    /// duplicates (<see cref="FindStoredAsync"/>), without it stores every event not marked in <paramref name="duplicate"/>.</summary>
    private async Task WriteGroupAsync(
        IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, bool[] duplicate, RecentIdFilter? recent,
        InstallNumbers.GroupChanges installs, CancellationToken cancellationToken)
    {
        using var transaction = _writer.BeginTransaction();
        var stored = recent is null ? [] : await FindStoredAsync(events, duplicate, recent, transaction, cancellationToken);
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
    /// stored ids it covers (a scan of the newest row groups only: ids are stored roughly in order)
    /// and those journaled and not yet applied. At open it reads on the writer's connection; later
    /// (<paramref name="fromReader"/>) on the reader's, while the applier writes: the pending ids are
    /// taken first, so an id the applier stores in between is in one or the other.
    /// </summary>
    private async Task<RecentIdFilter> LoadRecentIdsAsync(bool fromReader, CancellationToken cancellationToken)
    {
        var filter = new RecentIdFilter(_recentIdCapacity, RecentIdFilter.BoundAt(DateTimeOffset.UtcNow - RecentIdMargin));
        List<Guid> pending;
        lock (_sync)
        {
            pending = [.. _pending.Select(key => key.Item2)];
        }

        if (fromReader)
        {
            await _readGate.WaitAsync(cancellationToken);
        }

        try
        {
            using var command = (fromReader ? _reader : _writer).CreateCommand();
            command.CommandText = "SELECT event_id FROM events WHERE event_id >= $1";
            Add(command, filter.Bound);
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                filter.Add(reader.GetGuid(0));
            }
        }
        finally
        {
            if (fromReader)
            {
                _readGate.Release();
            }
        }

        foreach (var id in pending)
        {
            filter.Add(id);
        }

        return filter;
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadRecentAsync(string product, int limit, CancellationToken cancellationToken)
    {
        await WaitForStoredAsync(cancellationToken);
        await _readGate.WaitAsync(cancellationToken);
        try
        {
            return await DuckDbNewestRows.EventsAsync(_reader, product, limit, cancellationToken);
        }
        finally
        {
            _readGate.Release();
        }
    }

    public async Task<IReadOnlyList<QuarantineRecord>> ReadQuarantineAsync(string product, int limit, CancellationToken cancellationToken)
    {
        await WaitForStoredAsync(cancellationToken);
        await _readGate.WaitAsync(cancellationToken);
        try
        {
            return await DuckDbNewestRows.QuarantineAsync(_reader, product, limit, cancellationToken);
        }
        finally
        {
            _readGate.Release();
        }
    }

    public async Task<QuarantineSummary> SummarizeQuarantineAsync(string product, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await WaitForStoredAsync(cancellationToken);
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
        await WaitForStoredAsync(cancellationToken);
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

    /// <summary>Whether the database answers and the applier is storing what was acknowledged.</summary>
    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        if (_applyFailing)
        {
            return false;
        }

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

        // The writer has stopped (the group-commit writer drains before the store is disposed): the
        // applier stores what is left of the journal now rather than at the next open, so the file is
        // complete when it closes.
        if (_segment is { } current)
        {
            Close(current);
        }

        _stopping = true;
        _wake.Set();
        await _applier;
        _wake.Dispose();

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
