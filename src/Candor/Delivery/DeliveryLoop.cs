using Candor.Diagnostics;
using Candor.Protocol;
using Candor.Transparency;

namespace Candor.Delivery;

/// <summary>
/// The single reader of the client's queue, on its own background thread: it lingers until a batch is
/// full (count or bytes) or the batch interval has passed, records the batch in the transparency log,
/// sends it with bounded retries and backoff, and spools what cannot be delivered. At stop it makes
/// one last attempt within the flush budget and spools the rest.
/// </summary>
/// <remarks>
/// Modelled on OpenTelemetry's BatchExportProcessor: a dedicated thread with synchronous I/O, so the
/// exit path never waits for a thread-pool thread (a host blocking in <c>Dispose</c> on a pool thread,
/// or a starved pool, would otherwise stall timers and continuations past the budget); one batch in
/// flight, never a retry storm, never a throw. The thread is a background thread: it never keeps the
/// process alive. It starts with the client and prepares the exit path while the host works (see
/// <c>Run</c>); a process that recorded nothing does not wait for it at all.
/// </remarks>
internal sealed class DeliveryLoop : IDisposable
{
    private readonly EventQueue _reader;
    private readonly CandorOptions _options;
    private readonly Lazy<EventContext> _context;
    private readonly Action? _warmUp;
    private readonly TelemetryLevel _level;
    private readonly HttpSender? _sender;
    private readonly Spool? _spool;
    private readonly TransparencyLog? _log;
    private readonly TimeProvider _time;
    private readonly Backoff _backoff;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _deadline = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly List<TaskCompletionSource> _flushWaiters = [];
    private readonly List<EventBatch> _carried = [];
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private DateTimeOffset _nextAttemptAt;
    private int _wakePending;
    private int _pending;
    private int _accepted;
    private bool _started;

    // warmUp runs first on the delivery thread, to prepare what Track needs while the host is busy.
    public DeliveryLoop(EventQueue reader, CandorOptions options, Lazy<EventContext> context, TelemetryLevel level,
        HttpSender? sender, Spool? spool, TransparencyLog? log, TimeProvider time, Action? warmUp = null)
    {
        _warmUp = warmUp;
        _reader = reader;
        _options = options;
        _context = context;
        _level = level;
        _sender = sender;
        _spool = spool;
        _log = log;
        _time = time;
        _backoff = new Backoff(options.RetryBaseDelay, options.MaxRetryDelay, Random.Shared);
        _thread = new Thread(Run) { IsBackground = true, Name = "Candor delivery" };
    }

    public void Start()
    {
        _thread.Start();
        _started = true;
    }

    /// <summary>Called by <c>Track</c> after each accepted event: wakes the loop for the first event of a
    /// batch and again when the batch is full, and otherwise costs one interlocked increment.</summary>
    public void OnEnqueued()
    {
        Volatile.Write(ref _accepted, 1);
        var pending = Interlocked.Increment(ref _pending);
        if (pending == 1 || pending == _options.BatchSize)
        {
            Wake();
        }
    }

    /// <summary>Starts the warm-up now rather than at the first event or after <see cref="CandorOptions.IdleWarmUpDelay"/>:
    /// the host has said it is starting work it will track (see <c>CandorClient.WarmUp</c>).</summary>
    public void WarmUpNow() => Wake();

    /// <summary>Empties the queue without delivering (benchmarks only; see <c>CandorClient.DiscardQueued</c>).</summary>
    public int Discard()
    {
        var count = 0;
        while (_reader.TryRead(out _))
        {
            count++;
        }

        Interlocked.Add(ref _pending, -count);
        return count;
    }

    /// <summary>Asks for an immediate delivery pass and waits for it, at most <paramref name="timeout"/>.</summary>
    public async Task FlushAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_flushWaiters)
        {
            _flushWaiters.Add(waiter);
        }

        Wake();
        try
        {
            await waiter.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops the loop and waits at most <paramref name="budget"/>: sends are cut when the budget
    /// less a reserve for writing the spool is spent. True when the loop finished in time. The waiting
    /// and the cutting happen on the calling thread, so they need no timer and no pool thread.</summary>
    public bool Stop(TimeSpan budget)
    {
        var started = _time.GetTimestamp();
        _stop.Cancel();
        if (NothingToFlush())
        {
            return true;
        }

        if (!_started || _thread.Join(SendBudget(budget)))
        {
            return true;
        }

        _deadline.Cancel();
        var left = budget - _time.GetElapsedTime(started);
        return _thread.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero);
    }

    /// <summary>As <see cref="Stop"/>, without blocking the caller.</summary>
    public async Task<bool> StopAsync(TimeSpan budget)
    {
        var started = _time.GetTimestamp();
        _stop.Cancel();
        if (!_started || NothingToFlush())
        {
            return true;
        }

        try
        {
            await _exited.Task.WaitAsync(SendBudget(budget)).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
        }

        _deadline.Cancel();
        var left = budget - _time.GetElapsedTime(started);
        try
        {
            await _exited.Task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Releases the loop's handles once it has finished; a loop still running at the end of the
    /// flush budget keeps them until the process exits.</summary>
    public void Dispose()
    {
        if (!_thread.IsAlive)
        {
            _stop.Dispose();
            _deadline.Dispose();
            _wake.Dispose();
        }
    }

    /// <summary>
    /// A process that recorded nothing has nothing of its own to flush: it does not wait for the loop,
    /// which is cut short where it is (warming up, or sending what earlier runs spooled; a spooled batch
    /// is deleted only once delivered, so it is sent by a later run). A tool's <c>--help</c> pays nothing
    /// at exit.
    /// </summary>
    private bool NothingToFlush()
    {
        if (!_started || Volatile.Read(ref _accepted) != 0)
        {
            return false;
        }

        _deadline.Cancel();
        return true;
    }

    /// <summary>How long the loop stays idle after it starts unless an event comes first.</summary>
    /// <remarks>Measured on acme (2 cores): without the delay a --help run paid 20–28 ms more for a warm-up
    /// it never used; with it, a command shorter than the delay warms up at its first event instead.</remarks>
    internal static readonly TimeSpan WarmUpDelay = TimeSpan.FromMilliseconds(100);

    // Writing the spool takes a few milliseconds; keep a quarter of the budget (at most 50 ms) for it.
    private static TimeSpan SendBudget(TimeSpan budget) =>
        budget - TimeSpan.FromTicks(Math.Min(budget.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks));

    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>Waits for a wake-up or the timeout; throws <see cref="OperationCanceledException"/> at stop.</summary>
    private void WaitForWake(TimeSpan timeout)
    {
        _wake.Wait(timeout, _stop.Token);
        Volatile.Write(ref _wakePending, 0);
    }

    private bool FlushRequested
    {
        get
        {
            lock (_flushWaiters)
            {
                return _flushWaiters.Count > 0;
            }
        }
    }

    private void Run()
    {
        try
        {
            // Nothing until the first event or until the host has clearly started real work: a run that
            // records nothing and ends at once (a tool's --help) should not share its CPU with a warm-up.
            if (Volatile.Read(ref _accepted) == 0)
            {
                try
                {
                    WaitForWake(_options.IdleWarmUpDelay);
                }
                catch (OperationCanceledException)
                {
                    if (Volatile.Read(ref _accepted) == 0)
                    {
                        return;
                    }
                }
            }

            // While the host runs its command: what Track needs, a connection to the collector, the
            // exit path's code; then what earlier runs left. A short-lived tool's exit then pays only for
            // the bytes on the wire.
            _warmUp?.Invoke();
            _sender?.Prepare(_stop.Token);
            WarmUp();
            if (!_stop.IsCancellationRequested)
            {
                DrainSpool();

                // Draining may have used the prepared connection.
                _sender?.Prepare(_stop.Token);
            }

            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    if (Volatile.Read(ref _pending) == 0 && !FlushRequested)
                    {
                        WaitForWake(Timeout.InfiniteTimeSpan);
                    }

                    // Linger so a burst of events leaves as one request: until the interval has passed,
                    // unless the batch fills or a flush is asked for (a wake-up left over from the
                    // first event does not cut the wait short).
                    var lingerStarted = _time.GetTimestamp();
                    while (Volatile.Read(ref _pending) < _options.BatchSize && !FlushRequested)
                    {
                        var left = _options.BatchInterval - _time.GetElapsedTime(lingerStarted);
                        if (left <= TimeSpan.Zero)
                        {
                            break;
                        }

                        WaitForWake(left);
                    }
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                List<TaskCompletionSource> waiters;
                lock (_flushWaiters)
                {
                    waiters = [.. _flushWaiters];
                    _flushWaiters.Clear();
                }

                DeliverQueued();
                waiters.ForEach(w => w.TrySetResult());
            }

            if (FinalFlush())
            {
                // This run's events are out; what earlier runs left goes next, within what is left of the budget.
                DrainSpool();
            }
        }
        catch (Exception ex)
        {
            // The loop is the SDK's only long-lived code; whatever goes wrong stays here.
            CandorEventSource.Log.InternalError(ex.GetType().Name);
        }
        finally
        {
            lock (_flushWaiters)
            {
                _flushWaiters.ForEach(w => w.TrySetResult());
                _flushWaiters.Clear();
            }

            _exited.TrySetResult();
        }
    }

    /// <summary>
    /// Runs the exit path's serializers and compressor once while the host is still busy with its own
    /// work. Cold, they cost tens of milliseconds of JIT and loading — enough to push a short-lived
    /// tool's final flush past its budget. Touches neither the disk nor the network.
    /// </summary>
    private void WarmUp()
    {
        var sample = new EventBatch
        {
            Context = _context.Value,
            Events = [new TelemetryEvent { Id = Guid.CreateVersion7(), Name = "warm_up", Properties = new Dictionary<string, PropertyValue> { ["s"] = "s", ["i"] = 1 } }],
        };
        WireJson.WriteBatch(Stream.Null, sample);
        _ = WireJson.SerializeEvent(sample.Events[0]);
        _sender?.WarmUp(sample);
    }

    private void DeliverQueued()
    {
        while (TakeBatch(log: true) is { } batch)
        {
            if (_sender is null)
            {
                continue;
            }

            switch (SendWithRetries(batch))
            {
                case Attempt.Done:
                    break;
                case Attempt.GaveUp:
                    _spool?.Write(batch, _level);
                    break;
                case Attempt.Stopped:
                    _carried.Add(batch);
                    return;
            }
        }
    }

    /// <summary>Sends (or spools) everything left; true when everything was delivered.</summary>
    private bool FinalFlush()
    {
        var batches = new List<EventBatch>(_carried);
        var taken = new List<EventBatch>();
        while (TakeBatch(log: false) is { } batch)
        {
            taken.Add(batch);
        }

        batches.AddRange(taken);
        try
        {
            return _sender is not null && SpoolThenSend(batches);
        }
        finally
        {
            // The user's record comes last at exit: delivery and the spool matter more within the budget.
            if (taken.Count > 0)
            {
                _log?.Append(taken.SelectMany(b => b.Events));
            }
        }
    }

    private bool SpoolThenSend(List<EventBatch> batches)
    {
        // Write-ahead: the batches are on disk before the last attempt, so a process that exits at the
        // end of the budget (or is killed) loses nothing; a delivered batch's file is deleted. A resend
        // after a lost delete is harmless, because event ids are idempotency keys.
        var spooled = batches.Select(b => _spool?.Write(b, _level)).ToList();

        // One attempt per batch, and none once one has failed or while the collector asked us to back off.
        var giveUp = _deadline.IsCancellationRequested || _time.GetUtcNow() < _nextAttemptAt;
        for (var i = 0; i < batches.Count && !giveUp; i++)
        {
            var result = SendOnce(batches[i], Timeout.InfiniteTimeSpan);
            if (result.Outcome == SendOutcome.Retry)
            {
                giveUp = true;
            }
            else if (spooled[i] is { } path)
            {
                Spool.Delete(path);
            }
        }

        return !giveUp;
    }

    private enum Attempt
    {
        Done,
        GaveUp,
        Stopped,
    }

    private Attempt SendWithRetries(EventBatch batch)
    {
        for (var attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            var wait = _nextAttemptAt - _time.GetUtcNow();
            if (wait > TimeSpan.Zero && _stop.Token.WaitHandle.WaitOne(wait))
            {
                return Attempt.Stopped;
            }

            var result = SendOnce(batch, _options.SendTimeout);
            if (result.Outcome == SendOutcome.Delivered)
            {
                var recovered = _backoff.ConsecutiveFailures > 0;
                _backoff.Succeeded();
                if (recovered)
                {
                    DrainSpool();
                }

                return Attempt.Done;
            }

            if (result.Outcome == SendOutcome.Refused)
            {
                CandorEventSource.Log.EventsDropped(batch.Events.Count, "refused by the collector: " + result.Status);
                return Attempt.Done;
            }

            _nextAttemptAt = _time.GetUtcNow() + _backoff.Failed(result.RetryAfter);
            if (_stop.IsCancellationRequested)
            {
                return Attempt.Stopped;
            }
        }

        return Attempt.GaveUp;
    }

    private SendResult SendOnce(EventBatch batch, TimeSpan timeout)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_deadline.Token);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            cancellation.CancelAfter(timeout);
        }

        batch.SentAt = _time.GetUtcNow();
        return _sender!.Send(batch, cancellation.Token);
    }

    /// <summary>Sends what earlier runs left in the spool, oldest first, while the collector answers.</summary>
    private void DrainSpool()
    {
        if (_sender is null || _spool is null)
        {
            return;
        }

        foreach (var spooled in _spool.ReadAll(_level))
        {
            if (_deadline.IsCancellationRequested || _time.GetUtcNow() < _nextAttemptAt)
            {
                return;
            }

            var result = SendOnce(spooled.Batch, _options.SendTimeout);
            if (result.Outcome == SendOutcome.Retry)
            {
                _nextAttemptAt = _time.GetUtcNow() + _backoff.Failed(result.RetryAfter);
                return;
            }

            _backoff.Succeeded();
            Spool.Delete(spooled.Path);
            if (result.Outcome == SendOutcome.Delivered)
            {
                CandorEventSource.Log.SpoolDrained(spooled.Batch.Events.Count);
            }
        }
    }

    /// <summary>The next batch from the queue, bounded by count and bytes; null when the queue is empty.</summary>
    private EventBatch? TakeBatch(bool log)
    {
        List<TelemetryEvent>? events = null;
        var bytes = 0;
        while (events is not { Count: var count } || (count < _options.BatchSize && bytes < _options.MaxBatchBytes))
        {
            if (!_reader.TryRead(out var queued))
            {
                break;
            }

            Interlocked.Decrement(ref _pending);
            bytes += queued.EstimatedBytes;
            (events ??= []).Add(queued.ToTelemetryEvent());
        }

        if (events is null)
        {
            return null;
        }

        if (log)
        {
            _log?.Append(events);
        }

        return new EventBatch { SentAt = _time.GetUtcNow(), Context = _context.Value, Events = events };
    }
}
