namespace Candor.Delivery;

/// <summary>
/// Wakes the delivery thread: many callers may wake it, the thread waits for it. A wake-up that is
/// already pending is not signalled again, so a burst of events costs one release, not one each.
/// </summary>
internal sealed class WakeSignal(TimeProvider time, CancellationToken stop) : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0);
    private int _pending;

    public void Wake()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 0)
        {
            _signal.Release();
        }
    }

    /// <summary>Waits for a wake-up or the timeout (on the client's clock, see <see cref="TimedWaits"/>);
    /// throws <see cref="OperationCanceledException"/> at stop.</summary>
    public void Wait(TimeSpan timeout)
    {
        TimedWaits.Wait(_signal, timeout, time, stop);
        Volatile.Write(ref _pending, 0);
    }

    public void Dispose() => _signal.Dispose();
}
