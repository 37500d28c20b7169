using System.Diagnostics;
using Candor.Diagnostics;
using Candor.Protocol;
using Candor.Transparency;

namespace Candor.Delivery;

/// <summary>
/// The single reader of the client's queue, on its own background thread: it lingers until a batch is
/// full (count or bytes) or the batch interval has passed, then hands the batches on. This class is the
/// thread and its schedule; the jobs are apart: <see cref="ColdStart"/> (what is prepared before the
/// first send), <see cref="BatchAssembler"/> (batches from the queue), <see cref="BatchSender"/> (sending
/// with retries and backoff, draining the spool) and <see cref="ExitFlush"/> (the budgeted last pass).
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
    private readonly CandorOptions _options;
    private readonly TimeProvider _time;
    private readonly BatchAssembler _batches;
    private readonly BatchSender? _sender;
    private readonly ColdStart _coldStart;
    private readonly ExitFlush _exitFlush;
    private readonly CancellationTokenSource _stop = new();
    private readonly WakeSignal _wake;
    private readonly FlushRequests _flushes = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private readonly Spool? _spool;
    private volatile bool _abandoned;
    private int _accepted;
    private bool _started;

    // warmUp runs first on the delivery thread, to prepare what Track needs while the host is busy;
    // the deletions pending in forgetState (a state directory) are sent before anything else.
    public DeliveryLoop(EventQueue reader, CandorOptions options, Lazy<EventContext> context, TelemetryLevel level,
        HttpSender? sender, Spool? spool, TransparencyLog? log, TimeProvider time, Action? warmUp = null, string? forgetState = null)
    {
        _options = options;
        _time = time;
        _wake = new WakeSignal(time, _stop.Token);
        _batches = new BatchAssembler(reader, options, context, log, time);
        _sender = sender is null ? null : new BatchSender(sender, spool, level, options, time, _stop.Token);
        var forgets = PendingForgets(_sender, forgetState, options, time);
        _coldStart = new ColdStart(warmUp, _sender, context, _stop.Token, forgets);
        _exitFlush = new ExitFlush(_batches, _sender, spool, level, log, forgets);
        _spool = spool;
        _thread = new Thread(Run) { IsBackground = true, Name = "Candor delivery" };
    }

    /// <summary>Sends the pending deletions once per process, on the delivery thread: in the cold start,
    /// or at exit when the process ended before its cold start got to them.</summary>
    private static Action? PendingForgets(BatchSender? sender, string? stateDirectory, CandorOptions options, TimeProvider time)
    {
        if (sender is null || stateDirectory is null)
        {
            return null;
        }

        var asked = false;
        return () =>
        {
            if (!asked)
            {
                asked = true;
                _ = Rights.ForgetDelivery.SendPending(stateDirectory, options.ProductName, sender.Post, time, () => sender.IsCutShort);
            }
        };
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
        var pending = _batches.Added();
        if (pending == 1 || pending == _options.BatchSize)
        {
            _wake.Wake();
        }
    }

    /// <summary>Starts the warm-up now rather than at the first event or after <see cref="CandorOptions.IdleWarmUpDelay"/>:
    /// the host has said it is starting work it will track (see <c>CandorClient.WarmUp</c>).</summary>
    public void WarmUpNow() => _wake.Wake();

    /// <summary>Empties the queue without delivering (benchmarks only; see <c>CandorClient.DiscardQueued</c>).</summary>
    public int Discard() => _batches.Discard();

    /// <summary>Asks for an immediate delivery pass and waits for it, at most <paramref name="timeout"/>.</summary>
    public async Task FlushAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        var passed = _flushes.Add();
        _wake.Wake();
        try
        {
            await passed.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops the loop and waits at most <paramref name="budget"/> for its exit flush (see
    /// <see cref="ExitFlush.WaitWithin"/>). True when the loop finished in time.</summary>
    public bool Stop(TimeSpan budget)
    {
        var started = Stopwatch.GetTimestamp();
        _stop.Cancel();
        return !_started || NothingToFlush() || ExitFlush.WaitWithin(budget, started, _thread.Join, _sender);
    }

    /// <summary>As <see cref="Stop"/>, without blocking the caller.</summary>
    public async Task<bool> StopAsync(TimeSpan budget)
    {
        var started = Stopwatch.GetTimestamp();
        _stop.Cancel();
        return !_started || NothingToFlush() || await ExitFlush.WaitWithinAsync(budget, started, _exited.Task, _sender).ConfigureAwait(false);
    }

    /// <summary>Stops the loop without its exit flush: the request in flight is cut short, the queue is
    /// dropped, and the spool is closed and emptied (consent was lowered). Waits at most
    /// <paramref name="wait"/> for the thread; true when it finished.</summary>
    public bool Abandon(TimeSpan wait)
    {
        _abandoned = true;
        _spool?.Close();
        _sender?.CutShort();
        _stop.Cancel();
        var finished = !_started || _thread.Join(wait);
        if (finished)
        {
            // The queue has one reader: drained only once the thread has gone.
            _batches.Discard();
        }

        _spool?.Purge();
        return finished;
    }

    /// <summary>Releases the loop's handles once it has finished; a loop still running at the end of the
    /// flush budget keeps them until the process exits.</summary>
    public void Dispose()
    {
        if (!_thread.IsAlive)
        {
            _stop.Dispose();
            _sender?.Dispose();
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

        _sender?.CutShort();
        return true;
    }

    /// <summary>How long the loop stays idle after it starts unless an event comes first.</summary>
    /// <remarks>Measured on acme (2 cores): without the delay a --help run paid 20–28 ms more for a warm-up
    /// it never used; with it, a command shorter than the delay warms up at its first event instead.</remarks>
    internal static readonly TimeSpan WarmUpDelay = TimeSpan.FromMilliseconds(100);

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
                    _wake.Wait(_options.IdleWarmUpDelay);
                }
                catch (OperationCanceledException)
                {
                    if (Volatile.Read(ref _accepted) == 0)
                    {
                        return;
                    }
                }
            }

            _coldStart.Run();
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    Linger();
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                var waiters = _flushes.Take();
                DeliverQueued();
                waiters.ForEach(w => w.TrySetResult());
            }

            if (!_abandoned)
            {
                _exitFlush.Run();
            }
        }
        catch (Exception ex)
        {
            // The loop is the SDK's only long-lived code; whatever goes wrong stays here.
            CandorEventSource.Log.InternalError(ex.GetType().Name);
        }
        finally
        {
            _flushes.ReleaseAll();
            _exited.TrySetResult();
        }
    }

    /// <summary>Waits for events, then lingers so a burst of events leaves as one request: until the
    /// interval has passed, unless the batch fills or a flush is asked for (a wake-up left over from the
    /// first event does not cut the wait short). Throws <see cref="OperationCanceledException"/> at stop.</summary>
    private void Linger()
    {
        if (_batches.Pending == 0 && !_flushes.Any)
        {
            _wake.Wait(Timeout.InfiniteTimeSpan);
        }

        var lingerStarted = _time.GetTimestamp();
        while (_batches.Pending < _options.BatchSize && !_flushes.Any)
        {
            var left = _options.BatchInterval - _time.GetElapsedTime(lingerStarted);
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            _wake.Wait(left);
        }
    }

    /// <summary>Sends the queue's batches with retries; a batch the stop interrupts waits for the exit flush.</summary>
    private void DeliverQueued()
    {
        while (_batches.Take(log: true) is { } batch)
        {
            if (_sender is not null && !_sender.Deliver(batch))
            {
                _exitFlush.Carry(batch);
                return;
            }
        }
    }
}
