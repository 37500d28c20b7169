using System.Diagnostics;
using Candor.Delivery;

namespace Candor.Tests.Delivery;

public sealed class ExitFlushTests
{
    [Fact]
    public void TheStoppingThreadWaitsTheSendBudgetThenCutsTheRequestsShortAndWaitsOnlyWhatIsLeft()
    {
        using var stop = new CancellationTokenSource();
        using var http = new HttpSender(new Uri("http://127.0.0.1:9/"), null, TimeSpan.FromSeconds(2), TimeProvider.System);
        using var sender = new BatchSender(http, spool: null, TelemetryLevel.Anonymous, new CandorOptions { ProductName = "acme" }, TimeProvider.System, stop.Token);
        var waits = new List<TimeSpan>();
        var cutBeforeSecondWait = false;

        var finished = ExitFlush.WaitWithin(TimeSpan.FromMilliseconds(400), Stopwatch.GetTimestamp(), wait =>
        {
            cutBeforeSecondWait = waits.Count == 1 && sender.IsCutShort;
            waits.Add(wait);
            return false;
        }, sender);

        Assert.False(finished);
        Assert.True(cutBeforeSecondWait, "the requests were cut short before the last wait");
        Assert.Equal(TimeSpan.FromMilliseconds(350), waits[0]); // a quarter of the budget, at most 50 ms, is kept for the spool
        Assert.InRange(waits[1], TimeSpan.Zero, TimeSpan.FromMilliseconds(400));
    }

    [Fact]
    public void AThreadThatFinishesWithinTheSendBudgetIsNotCutShort()
    {
        using var stop = new CancellationTokenSource();
        using var http = new HttpSender(new Uri("http://127.0.0.1:9/"), null, TimeSpan.FromSeconds(2), TimeProvider.System);
        using var sender = new BatchSender(http, spool: null, TelemetryLevel.Anonymous, new CandorOptions { ProductName = "acme" }, TimeProvider.System, stop.Token);

        Assert.True(ExitFlush.WaitWithin(TimeSpan.FromMilliseconds(100), Stopwatch.GetTimestamp(), _ => true, sender));
        Assert.False(sender.IsCutShort);
    }
}
