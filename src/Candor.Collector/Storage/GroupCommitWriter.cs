using System.Threading.Channels;
using Candor.Collector.Operations;

namespace Candor.Collector.Storage;

/// <summary>One batch's work for the writer, completed once its group is committed.</summary>
internal sealed class WriteRequest(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine)
{
    private readonly TaskCompletionSource<bool[]> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<EventRecord> Events { get; } = events;

    public IReadOnlyList<QuarantineRecord> Quarantine { get; } = quarantine;

    public int Size => Events.Count + Quarantine.Count;

    /// <summary>Per event, whether it was a duplicate; completes after the commit.</summary>
    public Task<bool[]> Committed => _done.Task;

    public void Complete(bool[] duplicates) => _done.TrySetResult(duplicates);

    public void Fail(Exception exception) => _done.TrySetException(exception);
}

/// <summary>
/// The single writer with group commit. Ingest requests queue their batches in a bounded channel;
/// the writer takes everything waiting (up to a bound), commits it in one transaction, then
/// completes every request of the group. Requests arriving while a commit runs form the next group,
/// so under load each commit carries many batches and the per-commit cost (fsync) is shared.
/// When the queue is full, <see cref="TryEnqueue"/> fails and the caller answers 503 with
/// Retry-After instead of waiting or dropping. On shutdown the writer stops taking work and drains
/// what was queued before it returns. It runs one loop, or as many as the store can commit at once
/// (<see cref="IEventWriter.ConcurrentWrites"/>: PostgreSQL), each forming its own groups.
/// </summary>
internal sealed partial class GroupCommitWriter : IHostedService
{
    private readonly IEventWriter _store;
    private readonly Channel<WriteRequest> _queue;
    private readonly int _maxEventsPerCommit;
    private readonly ILogger<GroupCommitWriter> _logger;
    private readonly TimeProvider _time;
    private Task _loops = Task.CompletedTask;
    private int _depth;

    /// <summary>Creates the writer; <paramref name="time"/> is the clock of the commit duration metric (default: the system's).</summary>
    public GroupCommitWriter(IEventWriter store, CollectorOptions options, ILogger<GroupCommitWriter> logger, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _store = store;
        _maxEventsPerCommit = options.MaxEventsPerCommit;
        _logger = logger;
        _queue = Channel.CreateBounded<WriteRequest>(new BoundedChannelOptions(options.IngestQueueCapacity)
        {
            SingleReader = store.ConcurrentWrites <= 1,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public bool TryEnqueue(WriteRequest request)
    {
        if (!_queue.Writer.TryWrite(request))
        {
            return false;
        }

        CollectorMetrics.QueueDepth.Set(Interlocked.Increment(ref _depth));
        return true;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // A dedicated thread, not the thread pool: under load the pool's queue is full of request
        // work, and every hop of the writer's loop through it delays every waiting request.
        // Several loops only where the store commits concurrent groups exactly (PostgreSQL).
        _loops = Task.WhenAll(Enumerable.Range(0, Math.Max(1, _store.ConcurrentWrites)).Select(_ =>
            Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await _loops.WaitAsync(cancellationToken);
    }

    private void Run()
    {
        var group = new List<WriteRequest>();
        var events = new List<EventRecord>();
        var quarantine = new List<QuarantineRecord>();
        while (WaitForWork())
        {
            group.Clear();
            events.Clear();
            quarantine.Clear();
            var size = 0;
            while (size < _maxEventsPerCommit && _queue.Reader.TryRead(out var request))
            {
                group.Add(request);
                events.AddRange(request.Events);
                quarantine.AddRange(request.Quarantine);
                size += request.Size;
            }

            if (group.Count == 0)
            {
                continue; // another loop took it
            }

            CollectorMetrics.QueueDepth.Set(Interlocked.Add(ref _depth, -group.Count));
            var started = _time.GetTimestamp();
            try
            {
                Commit(group, events, quarantine);
            }
            catch (StorageRejectedException ex) when (group.Count > 1)
            {
                // One batch's content failed the whole group: commit each alone, so that only the
                // batch at fault is refused and the others' clients never see its error.
                LogGroupSplit(_logger, group.Count, ex.Reason);
                foreach (var request in group)
                {
                    try
                    {
                        Commit([request], request.Events, request.Quarantine);
                    }
                    catch (Exception alone)
                    {
                        LogCommitFailed(_logger, alone, 1, request.Size);
                        request.Fail(alone);
                    }
                }
            }
            catch (Exception ex)
            {
                LogCommitFailed(_logger, ex, group.Count, size);
                foreach (var request in group)
                {
                    request.Fail(ex);
                }
            }

            CollectorMetrics.CommitDuration.Observe(_time.GetElapsedTime(started).TotalSeconds);
            CollectorMetrics.CommitEvents.Observe(size);
        }
    }

    private void Commit(IReadOnlyList<WriteRequest> group, IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine)
    {
        // Never cancelled: a batch taken from the queue is committed or failed, not abandoned.
        // DuckDB's calls complete synchronously; Npgsql's block this thread only.
        var duplicates = _store.WriteAsync(events, quarantine, CancellationToken.None).GetAwaiter().GetResult();
        var offset = 0;
        foreach (var request in group)
        {
            request.Complete(duplicates[offset..(offset + request.Events.Count)]);
            offset += request.Events.Count;
        }
    }

    private bool WaitForWork()
    {
        var wait = _queue.Reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The storage refused the content of a group of {Batches} batches ({Reason}); committing each batch alone")]
    private static partial void LogGroupSplit(ILogger logger, int batches, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Commit of {Batches} batches ({Events} events) failed; their requests are answered 503")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int batches, int events);
}
