using Candor.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Candor.AspNetCore;

/// <summary>
/// Records the aggregated request usage every <see cref="CandorServiceOptions.UsageInterval"/> (read
/// again for each interval, so a reload applies to the next one) and once more when the host stops.
/// </summary>
/// <remarks>
/// The host stops its hosted services in the reverse order of their registration. ASP.NET Core's
/// server is registered last, so it has stopped (and drained its requests) before
/// <see cref="StopAsync"/> runs; Candor.Hosting's own service, registered by <c>AddCandor</c> before
/// <c>AddCandorHttpUsage</c>, stops after it, so the last interval is recorded before Candor's
/// shutdown flush.
/// </remarks>
internal sealed class HttpUsageFlushService(
    HttpUsageAggregator aggregator, IHttpUsageSink sink, IOptionsMonitor<CandorServiceOptions> options, TimeProvider time)
    : BackgroundService
{
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaximumInterval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval(), time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            aggregator.Flush(sink);
        }
    }

    /// <summary>The configured interval, held within the allowed range whatever validation let through.</summary>
    private TimeSpan Interval() => TimeSpan.FromTicks(Math.Clamp(options.CurrentValue.UsageInterval.Ticks, MinimumInterval.Ticks, MaximumInterval.Ticks));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        aggregator.Flush(sink);
    }
}
