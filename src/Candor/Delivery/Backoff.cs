namespace Candor.Delivery;

/// <summary>
/// How long to wait after consecutive failures: exponential from a base delay, capped, with "equal
/// jitter" (half fixed, half random) so a fleet of clients that failed together does not retry
/// together. A collector's <c>Retry-After</c> is a floor, never shortened.
/// </summary>
internal sealed class Backoff(TimeSpan baseDelay, TimeSpan maxDelay, Random random)
{
    public int ConsecutiveFailures { get; private set; }

    public void Succeeded() => ConsecutiveFailures = 0;

    /// <summary>Records a failure and returns the wait before the next attempt.</summary>
    public TimeSpan Failed(TimeSpan? retryAfter)
    {
        var exponent = Math.Min(ConsecutiveFailures, 20);
        ConsecutiveFailures++;
        var ceiling = Math.Min(baseDelay.TotalMilliseconds * Math.Pow(2, exponent), maxDelay.TotalMilliseconds);
        var delay = TimeSpan.FromMilliseconds(ceiling / 2 + random.NextDouble() * ceiling / 2);
        if (retryAfter is { } floor)
        {
            var capped = floor > maxDelay ? maxDelay : floor;
            if (capped > delay)
            {
                delay = capped;
            }
        }

        return delay;
    }
}
