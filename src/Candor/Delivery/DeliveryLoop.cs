using System.Threading.Channels;
using Candor.Diagnostics;
using Candor.Protocol;
using Candor.Transparency;

namespace Candor.Delivery;

/// <summary>
/// The single reader of the client's queue, on a background task: it lingers until a batch is full
/// (count or bytes) or the batch interval has passed, records the batch in the transparency log,
/// sends it with bounded retries and backoff, and spools what cannot be delivered. At stop it makes
/// one last attempt within the flush budget and spools the rest. Modelled on Serilog's BatchingSink
/// and OpenTelemetry's BatchExportProcessor: one batch in flight, never a retry storm, never a throw.
/// </summary>
internal sealed class DeliveryLoop : IDisposable
{
    private readonly ChannelReader<QueuedEvent> _reader;
    private readonly CandorOptions _options;
    private readonly EventContext _context;
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
    private DateTimeOffset _nextAttemptAt;
    private int _wakePending;
    private int _pending;
    private Task _task = Task.CompletedTask;

    public DeliveryLoop(ChannelReader<QueuedEvent> reader, CandorOptions options, EventContext context, TelemetryLevel level,
        HttpSender? sender, Spool? spool, TransparencyLog? log, TimeProvider time)
    {
        _reader = reader;
        _options = options;
        _context = context;
        _level = level;
        _sender = sender;
        _spool = spool;
        _log = log;
        _time = time;
        _backoff = new Backoff(options.RetryBaseDelay, options.MaxRetryDelay, Random.Shared);
    }

    public void Start() => _task = Task.Run(RunAsync);

    /// <summary>Called by <c>Track</c> after each accepted event: wakes the loop for the first event of a
    /// batch and again when the batch is full, and otherwise costs one interlocked increment.</summary>
    public void OnEnqueued()
    {
        var pending = Interlocked.Increment(ref _pending);
        if (pending == 1 || pending == _options.BatchSize)
        {
            Wake();
        }
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

    /// <summary>Stops the loop: sends are cut at the end of the flush budget less a reserve for writing
    /// the spool; waits at most the budget. True when the loop finished in time.</summary>
    public bool Stop(TimeSpan budget)
    {
        BeginStop(budget);
        try
        {
            return _task.Wait(budget);
        }
        catch (AggregateException)
        {
            return true;
        }
    }

    public async Task<bool> StopAsync(TimeSpan budget)
    {
        BeginStop(budget);
        try
        {
            await _task.WaitAsync(budget).ConfigureAwait(false);
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
        if (_task.IsCompleted)
        {
            _stop.Dispose();
            _deadline.Dispose();
            _wake.Dispose();
        }
    }

    private void BeginStop(TimeSpan budget)
    {
        // Writing the spool takes a few milliseconds; keep a quarter of the budget (at most 50 ms) for it.
        var reserve = TimeSpan.FromTicks(Math.Min(budget.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks));
        var sendBudget = budget - reserve;
        if (sendBudget <= TimeSpan.Zero)
        {
            _deadline.Cancel();
        }
        else
        {
            _deadline.CancelAfter(sendBudget);
        }

        _stop.Cancel();
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            _wake.Release();
        }
    }

    private async Task WaitForWakeAsync(TimeSpan timeout)
    {
        await _wake.WaitAsync(timeout, _stop.Token).ConfigureAwait(false);
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

    private async Task RunAsync()
    {
        try
        {
            await DrainSpoolAsync().ConfigureAwait(false);
            while (!_stop.IsCancellationRequested)
            {
                List<TaskCompletionSource> waiters;
                try
                {
                    if (Volatile.Read(ref _pending) == 0 && !FlushRequested)
                    {
                        await WaitForWakeAsync(Timeout.InfiniteTimeSpan).ConfigureAwait(false);
                    }

                    // Linger so a burst of events leaves as one request.
                    if (Volatile.Read(ref _pending) < _options.BatchSize && !FlushRequested)
                    {
                        await WaitForWakeAsync(_options.BatchInterval).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                lock (_flushWaiters)
                {
                    waiters = [.. _flushWaiters];
                    _flushWaiters.Clear();
                }

                await DeliverQueuedAsync().ConfigureAwait(false);
                waiters.ForEach(w => w.TrySetResult());
            }

            await FinalFlushAsync().ConfigureAwait(false);
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
        }
    }

    private async Task DeliverQueuedAsync()
    {
        while (TakeBatch() is { } batch)
        {
            if (_sender is null)
            {
                continue;
            }

            switch (await SendWithRetriesAsync(batch).ConfigureAwait(false))
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

    private async Task FinalFlushAsync()
    {
        var batches = new List<EventBatch>(_carried);
        while (TakeBatch() is { } batch)
        {
            batches.Add(batch);
        }

        if (_sender is null)
        {
            return;
        }

        // One attempt per batch, and none once one has failed or while the collector asked us to back off.
        var giveUp = _deadline.IsCancellationRequested || _time.GetUtcNow() < _nextAttemptAt;
        foreach (var batch in batches)
        {
            if (!giveUp)
            {
                var result = await SendOnceAsync(batch, Timeout.InfiniteTimeSpan).ConfigureAwait(false);
                if (result.Outcome != SendOutcome.Retry)
                {
                    continue;
                }

                giveUp = true;
            }

            _spool?.Write(batch, _level);
        }
    }

    private enum Attempt
    {
        Done,
        GaveUp,
        Stopped,
    }

    private async Task<Attempt> SendWithRetriesAsync(EventBatch batch)
    {
        for (var attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            var wait = _nextAttemptAt - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, _time, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return Attempt.Stopped;
                }
            }

            var result = await SendOnceAsync(batch, _options.SendTimeout).ConfigureAwait(false);
            if (result.Outcome == SendOutcome.Delivered)
            {
                var recovered = _backoff.ConsecutiveFailures > 0;
                _backoff.Succeeded();
                if (recovered)
                {
                    await DrainSpoolAsync().ConfigureAwait(false);
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

    private async Task<SendResult> SendOnceAsync(EventBatch batch, TimeSpan timeout)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_deadline.Token);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            cancellation.CancelAfter(timeout);
        }

        batch.SentAt = _time.GetUtcNow();
        return await _sender!.SendAsync(batch, cancellation.Token).ConfigureAwait(false);
    }

    /// <summary>Sends what earlier runs left in the spool, oldest first, while the collector answers.</summary>
    private async Task DrainSpoolAsync()
    {
        if (_sender is null || _spool is null)
        {
            return;
        }

        foreach (var spooled in _spool.ReadAll(_level))
        {
            if (_stop.IsCancellationRequested || _time.GetUtcNow() < _nextAttemptAt)
            {
                return;
            }

            var result = await SendOnceAsync(spooled.Batch, _options.SendTimeout).ConfigureAwait(false);
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

    /// <summary>The next batch from the queue, bounded by count and bytes, already recorded in the
    /// transparency log; null when the queue is empty.</summary>
    private EventBatch? TakeBatch()
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

        _log?.Append(events);
        return new EventBatch { SentAt = _time.GetUtcNow(), Context = _context, Events = events };
    }
}
