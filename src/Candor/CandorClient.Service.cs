using Candor.Diagnostics;

namespace Candor;

// How a long-running service (Candor.Hosting) ends a client: within what is left of its host's shutdown
// timeout, or at once and unsent when a configuration reload lowers consent.
public sealed partial class CandorClient
{
    /// <summary>As <see cref="DisposeAsync()"/> within <paramref name="budget"/> rather than the options' flush
    /// budget (a service flushes within what is left of its host's shutdown timeout).</summary>
    internal async ValueTask DisposeWithinAsync(TimeSpan budget)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _loop is null)
        {
            return;
        }

        _queue!.Complete();
        if (await _loop.StopAsync(budget).ConfigureAwait(false))
        {
            _sender?.Dispose();
            _loop.Dispose();
        }
        else
        {
            CandorEventSource.Log.DeliveryFailed("flush budget spent");
        }
    }

    /// <summary>
    /// Ends the client WITHOUT sending what is queued: consent was lowered while the process runs (a
    /// service's configuration reload). Recording stops at once, the request in flight is cut short, the
    /// queue is dropped and the spool emptied; nothing recorded under the higher level leaves afterwards.
    /// Waits at most <paramref name="wait"/> for the delivery thread.
    /// </summary>
    internal void Abandon(TimeSpan wait)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _loop is null)
        {
            return;
        }

        _queue!.Complete();
        if (_loop.Abandon(wait))
        {
            _sender?.Dispose();
            _loop.Dispose();
        }
    }
}
