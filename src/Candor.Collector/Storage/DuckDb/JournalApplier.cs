using System.Globalization;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// The write-ahead path: the writer's thread journals each accepted group and answers; this applier's
/// thread commits the journal's groups to DuckDB behind it, in chunks, and runs the checkpoints, so
/// neither a commit nor a checkpoint holds up a request. Keeps the ids journaled and not yet applied
/// (the dedup's "pending"), and lets reads wait until what was acknowledged before them is stored.
/// It holds the writer's gate (<see cref="DuckDbConnections.Exclusive"/>) while it commits or checkpoints, so forget and retention
/// (<see cref="DuckDbEventStore.ForgetAsync"/>) can take the writer's connection between two commits.
/// </summary>
internal sealed class JournalApplier(
    string journalPath, long segmentBytes, JournalBounds bounds, JournalDiagnostics diagnostics, ApplySplitter splitter,
    DuckDbGroupWriter writer, DuckDbCheckpointer checkpointer, DuckDbConnections connections, TimeProvider time) : IDisposable
{
    /// <summary>How many journaled events the applier commits at once: large enough that a commit's
    /// fixed cost (≈ 4.7 ms here) is small per event, small enough to hold few events in memory.</summary>
    public const int ApplyChunkEvents = 5_000;

    /// <summary>How many journal bytes the applier commits at once, whatever the events' size: what
    /// DuckDB holds for one commit stays well inside its memory limit (journal records are about 1 MB).</summary>
    public const long ApplyChunkBytes = 8L << 20;

    /// <summary>How many events may be acknowledged and not yet applied (several seconds of full ingest:
    /// a checkpoint's worth); a group beyond that waits for the applier. Bounds the memory their ids
    /// take (about 8 MB) and how far the database falls behind the answers.</summary>
    private const int MaxPendingEvents = 200_000;

    /// <summary>How many times a chunk fails as a whole before it is applied part by part (<see cref="ApplySplitter"/>).</summary>
    private const int SplitAfterFailures = 3;

    /// <summary>How long a group waits for room in the journal, and a read for the applier, before
    /// giving up (the applier is failing: see <see cref="LastApplyError"/>).</summary>
    private static readonly TimeSpan StorageWait = TimeSpan.FromSeconds(30);

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
    private volatile bool _applyFailing;

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

    /// <summary>Why the applier's last commit failed, if it did; it is tried again.</summary>
    public string? LastApplyError { get; private set; }

    /// <summary>Whether the applier's last attempt failed: the store is then not ready (/readyz).</summary>
    public bool ApplyFailing => _applyFailing;

    /// <summary>Whether the store is being disposed: no group is accepted any more.</summary>
    public bool Stopping => _stopping;

    /// <summary>Starts the applier on its own thread (LongRunning): DuckDB's calls block for
    /// milliseconds (a checkpoint for seconds).</summary>
    public void Start() =>
        _applier = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>The dedup's first step for a group about to be journaled (<see cref="DuckDbDedup.ToLookUp"/>),
    /// with the ids journaled and not yet applied counted as taken.</summary>
    public List<int> ToLookUp(IReadOnlyList<EventRecord> events, bool[] duplicate, RecentIdFilter recent)
    {
        lock (_sync)
        {
            return DuckDbDedup.ToLookUp(events, duplicate, recent, _pending);
        }
    }

    /// <summary>The ids journaled and not yet applied.</summary>
    public IReadOnlyCollection<Guid> PendingIds()
    {
        lock (_sync)
        {
            return [.. _pending.Select(key => key.Item2)];
        }
    }

    /// <summary>Appends a group to the journal and flushes it (durable on return), and wakes the applier.</summary>
    public void Append(IReadOnlyList<EventRecord> accepted, IReadOnlyList<QuarantineRecord> quarantine)
    {
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

        _wake.Set();
    }

    /// <summary>Waits while the journal holds <see cref="MaxPendingEvents"/> events not yet applied.</summary>
    public async Task WaitForRoomAsync(int events, CancellationToken cancellationToken)
    {
        if (!await WaitForApplierAsync(() => _pending.Count == 0 || _pending.Count + events <= MaxPendingEvents, cancellationToken))
        {
            throw new IOException($"DuckDB has not stored the events acknowledged before these for {StorageWait.TotalSeconds:F0} s: {LastApplyError ?? "no error reported"}.");
        }
    }

    /// <summary>
    /// Waits until every group acknowledged before the call is stored in the database — at most
    /// <see cref="StorageWait"/> (the applier is failing: the read then sees what is stored). Usually
    /// immediate or a few milliseconds; during a checkpoint up to its end (one to three seconds).
    /// </summary>
    public Task WaitForStoredAsync(CancellationToken cancellationToken) => TryWaitForStoredAsync(cancellationToken);

    /// <summary><see cref="WaitForStoredAsync"/>, telling whether everything acknowledged before the call is
    /// stored (false: the applier has been failing for <see cref="StorageWait"/>).</summary>
    public async Task<bool> TryWaitForStoredAsync(CancellationToken cancellationToken)
    {
        var target = Volatile.Read(ref _accepted);
        return await WaitForApplierAsync(() => _applied >= target, cancellationToken);
    }

    /// <summary>Stops the applier once it has stored what is left of the journal (the writer has stopped:
    /// the group-commit writer drains before the store is disposed), so the file is complete when it closes.</summary>
    public async Task StopAsync()
    {
        if (_segment is { } current)
        {
            Close(current);
        }

        _stopping = true;
        _wake.Set();
        await _applier;
    }

    /// <summary>After <see cref="StopAsync"/>.</summary>
    public void Dispose() => _wake.Dispose();

    /// <summary>Waits, at most <see cref="StorageWait"/> (a monotonic deadline), until <paramref name="done"/>
    /// (checked under <see cref="_sync"/>, again after each of the applier's commits) holds; returns whether it did.</summary>
    private async Task<bool> WaitForApplierAsync(Func<bool> done, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
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

            var left = StorageWait - time.GetElapsedTime(start);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await progress.WaitAsync(left, time, cancellationToken);
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
        if (_segment is { } current && current.Journal.Length < segmentBytes && !current.Journal.Broken)
        {
            return current;
        }

        var number = ++_segmentNumber;
        var path = number == 1 ? journalPath : journalPath + "." + number.ToString(CultureInfo.InvariantCulture);
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
    private void Run()
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

                    // Nothing to apply: checkpoint if due, then wait for the writer.
                    connections.Exclusive(checkpointer.MaybeCheckpoint);
                    _wake.Wait(TimeSpan.FromMilliseconds(250));
                    continue;
                }

                if (failures == SplitAfterFailures && lastError is not null)
                {
                    DuckDbStoreLog.Splitting(diagnostics.Logger, lastError, failures);
                }

                var (current, split) = (chunk, failures >= SplitAfterFailures);
                connections.Exclusive(() => Apply(current, split));
                chunk = null;
                failures = 0;
                connections.Exclusive(checkpointer.MaybeCheckpoint);
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
        reader ??= new IngestJournal.Reader(segment.Path, bounds);
        if (reader.Position < durable)
        {
            var chunk = diagnostics.Read(reader.ReadChunk(ApplyChunkEvents, ApplyChunkBytes, durable));
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

    /// <summary>Commits a chunk of journaled groups, whole or (<paramref name="split"/>) part by part,
    /// then lets their ids go from the pending set: they are in the table now.</summary>
    private void Apply(IngestJournal.Chunk chunk, bool split)
    {
        if (chunk.Events.Count + chunk.Quarantine.Count > 0)
        {
            (split ? splitter.ApplyAsync(chunk, writer.CommitJournaledAsync) : writer.CommitJournaledAsync(chunk.Events, chunk.Quarantine)).GetAwaiter().GetResult();
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
}
