using Candor.Collector.Operations;
using Microsoft.Extensions.Logging.Abstractions;

namespace Candor.Collector.Tests.Operations;

public sealed class MemoryTrimmerTests
{
    [Fact]
    public void MemoryIsGivenBackOnlyAboveTheBound()
    {
        var trimmer = new MemoryTrimmer(new CollectorOptions(), TimeProvider.System, NullLogger<MemoryTrimmer>.Instance);
        var trims = CollectorMetrics.MemoryTrims.Value;

        Assert.False(trimmer.TrimIfAbove(long.MaxValue));
        Assert.True(trimmer.TrimIfAbove(0));

        // At least: collectors started by other tests in this process trim on their own timers.
        Assert.True(CollectorMetrics.MemoryTrims.Value >= trims + 1);
    }
}
