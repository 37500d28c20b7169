using Microsoft.Extensions.Logging.Abstractions;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// The embedded default store: one DuckDB file. A group is accepted once it is in the ingest journal
/// (<see cref="JournalApplier"/>), which an applier thread commits to the database behind the answers
/// (<see cref="DuckDbGroupWriter"/>) on the writer's connection; reads use a second connection to the
/// same database, so the admin API never waits behind a commit, and first wait for what was
/// acknowledged before them (<see cref="WaitForStoredAsync"/>). Every statement is parameterized.
/// This class ties the parts together: dedup (<see cref="DuckDbDedup"/>), opening and migrations
/// (<see cref="DuckDbMigrations"/>, <see cref="JournalRecovery"/>), checkpoints
/// (<see cref="DuckDbCheckpointer"/>) and the admin reads (<see cref="DuckDbAdminReads"/>).
/// </summary>
internal sealed partial class DuckDbEventStore : IEventStore, IReadBarrier
{
    private readonly DuckDbConnections _connections;
    private readonly string _memoryLimit;
    private readonly long _checkpointWalBytes;
    private readonly string _journalPath;
    private readonly JournalBounds _bounds;
    private readonly InstallNumbers _installNumbers = new();
    private readonly DuckDbDedup _dedup;
    private readonly DuckDbGroupWriter _groups;
    private readonly DuckDbCheckpointer _checkpointer;
    private readonly ApplySplitter _splitter;
    private readonly JournalApplier _applier;
    private readonly DuckDbAdminReads _reads;
    private readonly TimeProvider _time;
    private int _disposed;

    /// <param name="databasePath">The DuckDB file.</param>
    /// <param name="memoryLimit">DuckDB's memory_limit.</param>
    /// <param name="recentIdCapacity">How many ids the recent-id filter holds before it is rebuilt
    /// (about 1.2 bytes each: 8 million ≈ 9.6 MB; at 100k events/s it is rebuilt about every 80 s, loading the last 10 s of ids).</param>
    /// <param name="checkpointWalBytes">The WAL size at which the store checkpoints (128 MB: a checkpoint
    /// about every 10 s at 50k events/s, each taking about 1–2 s on two cores); 0 leaves it to DuckDB.</param>
    /// <param name="journalSegmentBytes">The size past which the journal moves to a new file (applied files are deleted).</param>
    /// <param name="bounds">The longest strings taken from the journal (<see cref="JournalBounds.Default"/>: ingest's defaults).</param>
    /// <param name="logger">Where skipped journal records and refused rows are reported.</param>
    /// <param name="time">The clock of the recent-id filter's bound and of the store's deadlines (default: the system's).</param>
    public DuckDbEventStore(
        string databasePath, string memoryLimit = "48MB", int recentIdCapacity = 8_000_000, long checkpointWalBytes = 128L << 20, long journalSegmentBytes = 64L << 20,
        JournalBounds? bounds = null, ILogger<DuckDbEventStore>? logger = null, TimeProvider? time = null)
    {
        _time = time ??= TimeProvider.System;
        _bounds = bounds ?? JournalBounds.Default;
        _memoryLimit = memoryLimit;
        _checkpointWalBytes = checkpointWalBytes;
        _journalPath = databasePath + ".journal";
        Journal = new JournalDiagnostics(logger ?? (ILogger)NullLogger.Instance);
        var directory = Path.GetDirectoryName(Path.GetFullPath(databasePath));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        _connections = new DuckDbConnections(databasePath);
        _dedup = new DuckDbDedup(_connections, recentIdCapacity, time);
        _groups = new DuckDbGroupWriter(_connections, _installNumbers, _dedup, () => Forgotten);
        _checkpointer = new DuckDbCheckpointer(_connections, databasePath, checkpointWalBytes, time);
        _splitter = new ApplySplitter(_bounds, Journal);
        _applier = new JournalApplier(_journalPath, journalSegmentBytes, _bounds, Journal, _splitter, _groups, _checkpointer, _connections, time);
        _reads = new DuckDbAdminReads(_connections);
    }

    /// <summary>How far back the recent-id filter covers ids (<see cref="DuckDbDedup.RecentIdMargin"/>).</summary>
    internal static TimeSpan RecentIdMargin => DuckDbDedup.RecentIdMargin;

    /// <summary>Why the last checkpoint the store started failed, if it did (for tests and diagnostics).</summary>
    internal string? LastCheckpointError => _checkpointer.LastError;

    /// <summary>Why the applier's last commit failed, if it did; it is tried again.</summary>
    internal string? LastApplyError => _applier.LastApplyError;

    /// <summary>The checkpoint the applier is running, or a completed task.</summary>
    internal Task RunningCheckpoint => _checkpointer.Running;

    /// <summary>A test's hold on the next checkpoint: it starts when this task completes.</summary>
    internal Task? CheckpointGate
    {
        get => _checkpointer.Gate;
        set => _checkpointer.Gate = value;
    }

    /// <summary>A test's fault: called before each commit of the applier, of a chunk or part of one (throw to fail it).</summary>
    internal Action? BeforeApply
    {
        get => _groups.BeforeApply;
        set => _groups.BeforeApply = value;
    }

    /// <summary>What could not be taken from the journal as written: skipped, cut, quarantined.</summary>
    internal JournalDiagnostics Journal { get; }

    /// <summary>One writer thread: one group at a time (its dedup relies on that).</summary>
    public int ConcurrentWrites => 1;

    /// <summary>Whether journal files are left beside the DuckDB file (a crash): opening the store applies them.</summary>
    internal static bool HasJournal(string databasePath) => JournalRecovery.HasJournal(databasePath);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _connections.OpenWriterAsync(cancellationToken);
        _checkpointer.Threads = await DuckDbMigrations.PrepareAsync(_connections.Writer, _memoryLimit, _checkpointWalBytes, _installNumbers, cancellationToken);
        await _connections.OpenReaderAsync(cancellationToken);
        await _dedup.LoadAsync(fromReader: false, () => [], cancellationToken);
        await LoadTombstonesAsync(cancellationToken);
        await JournalRecovery.ApplyAsync(_journalPath, _bounds, Journal, _splitter, _groups, cancellationToken);
        _applier.Start();
    }

    /// <summary>
    /// Accepts a group: finds its duplicates, appends the rest to the journal, flushes it to disk and
    /// returns — the group is durable and will be applied (<see cref="JournalApplier"/>). Duplicates are
    /// those of an earlier event in the group, of an event journaled and not yet applied, or of one
    /// stored: the recent-id filter clears fresh ids, and the rest are looked up on the reader's
    /// connection (a checkpoint does not block it). Reads through this store and its analytics first
    /// wait for the applier to store what was acknowledged before them (<see cref="WaitForStoredAsync"/>).
    /// Events and quarantined events of a forgotten install are dropped, the events reported as duplicates.
    /// </summary>
    public async Task<bool[]> WriteAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_applier.Stopping, this);
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            return await JournalAsync(events, quarantine, cancellationToken);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task<bool[]> JournalAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        var recent = await _dedup.RecentAsync(fromReader: true, _applier.PendingIds, cancellationToken);
        await _applier.WaitForRoomAsync(events.Count, cancellationToken);
        var duplicate = new bool[events.Count];
        var toCheck = _applier.ToLookUp(events, duplicate, recent);
        if (toCheck.Count > 0)
        {
            var stored = await _dedup.StoredAmongAsync([.. toCheck.Select(i => events[i].Id)], cancellationToken);
            foreach (var i in toCheck)
            {
                duplicate[i] |= stored.Contains((events[i].Product, events[i].Id));
            }
        }

        quarantine = DropForgotten(Forgotten, events, duplicate, quarantine);
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

        _applier.Append(accepted, quarantine);
        foreach (var e in accepted)
        {
            recent.Add(e.Id);
        }

        return duplicate;
    }

    /// <summary>
    /// Waits until every group acknowledged before the call is stored in the database, so a read sees
    /// what was acknowledged before it — at most 30 s (the applier is failing: the read then sees what
    /// is stored). Usually immediate or a few milliseconds; during a checkpoint up to its end (one to three seconds).
    /// </summary>
    public Task WaitForStoredAsync(CancellationToken cancellationToken) => _applier.WaitForStoredAsync(cancellationToken);

    public async Task<IReadOnlyList<StoredEvent>> ReadRecentAsync(string product, int limit, CancellationToken cancellationToken)
    {
        await WaitForStoredAsync(cancellationToken);
        return await _reads.ReadRecentAsync(product, limit, cancellationToken);
    }

    public async Task<IReadOnlyList<QuarantineRecord>> ReadQuarantineAsync(string product, int limit, CancellationToken cancellationToken)
    {
        await WaitForStoredAsync(cancellationToken);
        return await _reads.ReadQuarantineAsync(product, limit, cancellationToken);
    }

    public async Task<QuarantineSummary> SummarizeQuarantineAsync(string product, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await WaitForStoredAsync(cancellationToken);
        return await _reads.SummarizeQuarantineAsync(product, from, to, cancellationToken);
    }

    public async Task<bool> HasEventsAsync(CancellationToken cancellationToken)
    {
        await WaitForStoredAsync(cancellationToken);
        return await _reads.HasEventsAsync(cancellationToken);
    }

    /// <summary>Whether the database answers and the applier is storing what was acknowledged.</summary>
    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken) =>
        !_applier.ApplyFailing && await _reads.IsReachableAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        // Registered under several service types, so the container disposes it more than once.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // The writer has stopped (the group-commit writer drains before the store is disposed): the
        // applier stores what is left of the journal now rather than at the next open.
        await _applier.StopAsync();
        _applier.Dispose();
        await _connections.DisposeAsync();
        _writeGate.Dispose();
    }
}
