using Candor.Diagnostics;
using Candor.Protocol;

namespace Candor.Delivery;

/// <summary>
/// Sends batches for the delivery thread, one request at a time: bounded attempts with exponential
/// backoff and jitter, the collector's <c>Retry-After</c> honoured, and no request at all while the
/// collector has asked us to back off (a retry storm is never an option). Also drains the spool while
/// the collector answers. Each request is bounded by its timeout and by the exit deadline.
/// </summary>
internal sealed class BatchSender : IDisposable
{
    private readonly HttpSender _sender;
    private readonly Spool? _spool;
    private readonly TelemetryLevel _level;
    private readonly CandorOptions _options;
    private readonly TimeProvider _time;
    private readonly CancellationToken _stop;
    private readonly Backoff _backoff;
    private readonly CancellationTokenSource _deadline = new();
    private DateTimeOffset _nextAttemptAt;

    // stop: cancelled when the client stops, which ends the wait between attempts.
    public BatchSender(HttpSender sender, Spool? spool, TelemetryLevel level, CandorOptions options, TimeProvider time, CancellationToken stop)
    {
        _sender = sender;
        _spool = spool;
        _level = level;
        _options = options;
        _time = time;
        _stop = stop;
        _backoff = new Backoff(options.RetryBaseDelay, options.MaxRetryDelay, Random.Shared);
    }

    /// <summary>The connection and request path behind this sender, for the cold start.</summary>
    public HttpSender Http => _sender;

    /// <summary>Whether the exit deadline has passed (see <see cref="CutShort"/>).</summary>
    public bool IsCutShort => _deadline.IsCancellationRequested;

    /// <summary>Whether the collector asked us to wait and the wait is not over.</summary>
    public bool BackingOff => _time.GetUtcNow() < _nextAttemptAt;

    /// <summary>Ends the request in flight and any further one at once (the flush budget is spent, or
    /// the process has nothing of its own to flush).</summary>
    public void CutShort() => _deadline.Cancel();

    /// <summary>Sends with retries; a batch that could not be delivered goes to the spool. False when the
    /// client stopped first: the caller keeps the batch for the exit flush.</summary>
    public bool Deliver(EventBatch batch)
    {
        switch (SendWithRetries(batch))
        {
            case Attempt.GaveUp:
                _spool?.Write(batch, _level);
                return true;
            case Attempt.Stopped:
                return false;
            default:
                return true;
        }
    }

    private enum Attempt
    {
        Done,
        GaveUp,
        Stopped,
    }

    /// <summary>Sends with up to <see cref="CandorOptions.MaxAttempts"/> attempts, waiting out the backoff
    /// between them unless the client stops.</summary>
    private Attempt SendWithRetries(EventBatch batch)
    {
        for (var attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            var wait = _nextAttemptAt - _time.GetUtcNow();
            if (wait > TimeSpan.Zero && TimedWaits.Delay(wait, _time, _stop))
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

    /// <summary>One request, bounded by <paramref name="timeout"/> (or only by the exit deadline when infinite).</summary>
    public SendResult SendOnce(EventBatch batch, TimeSpan timeout)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_deadline.Token);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            // A network timeout: real time, whatever the client's clock (see TimedWaits).
            cancellation.CancelAfter(timeout);
        }

        batch.SentAt = _time.GetUtcNow();
        return _sender.Send(batch, cancellation.Token);
    }

    /// <summary>Posts a forget request (see <see cref="Rights.ForgetDelivery"/>), bounded like a batch by
    /// the send timeout and the exit deadline.</summary>
    public Rights.RightsAnswer Post(string path, byte[] body)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_deadline.Token);
        cancellation.CancelAfter(_options.SendTimeout);
        return _sender.Post(path, body, cancellation.Token);
    }

    /// <summary>Sends what earlier runs left in the spool, oldest first, while the collector answers.</summary>
    public void DrainSpool()
    {
        if (_spool is null)
        {
            return;
        }

        foreach (var spooled in _spool.ReadAll(_level))
        {
            if (IsCutShort || BackingOff)
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

    public void Dispose() => _deadline.Dispose();
}
