using System.Net;
using System.Threading.RateLimiting;

namespace Candor.Collector.Security;

/// <summary>
/// Failed admin-token checks per client address, in fixed one-minute windows of
/// <see cref="RateLimitOptions.AdminFailuresPerMinute"/> failures. Only failures take from an
/// address's allowance, so an operator's dashboard (a dozen requests per refresh) never runs out;
/// an address that has used it up is refused until its window ends, whatever token it sends.
/// </summary>
internal sealed class AdminFailureLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<IPAddress>? _failures;

    public AdminFailureLimiter(CollectorOptions options)
    {
        var perMinute = options.RateLimits.AdminFailuresPerMinute;
        if (perMinute > 0)
        {
            // The partitioned limiter drops an address's window once it has been full for a while,
            // so the table holds only addresses that failed recently.
            _failures = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetFixedWindowLimiter(
                address, _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        }
    }

    /// <summary>How long the address must wait, when it has no failures left; otherwise null.</summary>
    public TimeSpan? Refusal(IPAddress? address)
    {
        if (_failures is null)
        {
            return null;
        }

        // Asking for no permit tells whether any is left, without taking one.
        using var lease = _failures.AttemptAcquire(address ?? IPAddress.None, 0);
        return lease.IsAcquired ? null : RateLimits.RetryAfterOf(lease);
    }

    /// <summary>Counts a failed check; how long the address must wait when this one was over its
    /// allowance (a concurrent request used the last), otherwise null.</summary>
    public TimeSpan? Failed(IPAddress? address)
    {
        if (_failures is null)
        {
            return null;
        }

        using var lease = _failures.AttemptAcquire(address ?? IPAddress.None);
        return lease.IsAcquired ? null : RateLimits.RetryAfterOf(lease);
    }

    public void Dispose() => _failures?.Dispose();
}
