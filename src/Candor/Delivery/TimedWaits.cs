namespace Candor.Delivery;

/// <summary>
/// The delivery thread's waits measured by the client's <see cref="TimeProvider"/> (the linger before a
/// batch, the backoff before a retry), so that a host's fake clock drives them in its tests.
/// </summary>
/// <remarks>
/// On the system clock a wait is a plain blocking wait on the delivery thread: no timer, no pool
/// thread. Another clock's time passes only through its timers, so the wait is bounded by one of them.
/// The flush budget and the network timeouts are not waits of this kind: they bound real waiting on
/// real I/O, so they stay on the system clock and a stopped fake clock can never hold the process.
/// </remarks>
internal static class TimedWaits
{
    /// <summary>Waits until <paramref name="signal"/> is released or <paramref name="timeout"/> has passed;
    /// throws <see cref="OperationCanceledException"/> when <paramref name="stop"/> is cancelled.</summary>
    public static void Wait(SemaphoreSlim signal, TimeSpan timeout, TimeProvider time, CancellationToken stop)
    {
        if (timeout == Timeout.InfiniteTimeSpan || time == TimeProvider.System)
        {
            signal.Wait(timeout, stop);
            return;
        }

        using var elapsed = new CancellationTokenSource(timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stop, elapsed.Token);
        try
        {
            signal.Wait(Timeout.InfiniteTimeSpan, either.Token);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Waits <paramref name="delay"/>; true when <paramref name="stop"/> was cancelled first.</summary>
    public static bool Delay(TimeSpan delay, TimeProvider time, CancellationToken stop)
    {
        if (time == TimeProvider.System)
        {
            return stop.WaitHandle.WaitOne(delay);
        }

        using var elapsed = new CancellationTokenSource(delay, time);
        return WaitHandle.WaitAny([stop.WaitHandle, elapsed.Token.WaitHandle]) == 0;
    }
}
