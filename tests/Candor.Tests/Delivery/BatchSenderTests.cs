using Candor.Delivery;
using Candor.Protocol;
using Candor.Tests.Fakes;
using Candor.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Tests.Delivery;

public sealed class BatchSenderTests
{
    [Fact]
    public async Task AfterAFailureNothingIsSentUntilTheBackoffHasPassedOnTheClientsClock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        await using var collector = await LoopbackCollector.StartAsync();
        collector.Respond = _ => new StatusResult(503, retryAfterSeconds: 60);
        using var stop = new CancellationTokenSource();
        using var http = new HttpSender(collector.BaseAddress, "wk_test", TimeSpan.FromSeconds(2), time);
        using var sender = new BatchSender(http, spool: null, TelemetryLevel.Anonymous, Options(maxAttempts: 2), time, stop.Token);

        var delivering = Task.Run(() => sender.Deliver(Batch()));
        await TestClients.Eventually(() => collector.Requests.Count == 1 && sender.BackingOff, "the first attempt failed");

        // A minute of wall time would not do: the wait is on the client's clock.
        await Task.Delay(300);
        Assert.Single(collector.Requests);
        collector.Respond = _ => new StatusResult(200);
        time.Advance(TimeSpan.FromSeconds(60));

        Assert.True(await delivering);
        Assert.Equal(2, collector.Requests.Count);
        Assert.False(sender.BackingOff);
    }

    [Fact]
    public async Task ABatchThatExhaustsItsAttemptsGoesToTheSpoolAndAfterAStopABatchIsHandedBack()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        collector.Respond = _ => new StatusResult(500);
        using var directory = new TemporaryDirectory("candor-spool");
        var spool = new Spool(directory.Path, 1024 * 1024, 100, TimeSpan.FromDays(7), TimeProvider.System);
        using var stop = new CancellationTokenSource();
        using var http = new HttpSender(collector.BaseAddress, "wk_test", TimeSpan.FromSeconds(2), TimeProvider.System);
        using var sender = new BatchSender(http, spool, TelemetryLevel.Anonymous, Options(maxAttempts: 2, retryBaseDelay: TimeSpan.FromMilliseconds(10)), TimeProvider.System, stop.Token);

        Assert.True(sender.Deliver(Batch()));
        Assert.Equal(2, collector.Requests.Count);
        Assert.Single(spool.ReadAll(TelemetryLevel.Anonymous));

        // Once the client stops, a batch is handed back for the exit flush instead of being retried or spooled.
        await stop.CancelAsync();
        Assert.False(sender.Deliver(Batch()));
        Assert.Single(spool.ReadAll(TelemetryLevel.Anonymous));
    }

    [Fact]
    public async Task CuttingShortEndsARequestTheCollectorNeverAnswers()
    {
        await using var silent = new FaultyServer(Fault.AcceptAndNeverAnswer);
        using var stop = new CancellationTokenSource();
        using var http = new HttpSender(silent.BaseAddress, "wk_test", TimeSpan.FromSeconds(2), TimeProvider.System);
        using var sender = new BatchSender(http, spool: null, TelemetryLevel.Anonymous, Options(maxAttempts: 1), TimeProvider.System, stop.Token);

        var sending = Task.Run(() => sender.SendOnce(Batch(), Timeout.InfiniteTimeSpan));
        await Task.Delay(200);
        sender.CutShort();

        Assert.Equal(SendOutcome.Retry, (await sending.WaitAsync(TimeSpan.FromSeconds(5))).Outcome);
        Assert.True(sender.IsCutShort);
    }

    private static CandorOptions Options(int maxAttempts, TimeSpan? retryBaseDelay = null) => new()
    {
        ProductName = "acme",
        MaxAttempts = maxAttempts,
        RetryBaseDelay = retryBaseDelay ?? TimeSpan.FromSeconds(1),
        MaxRetryDelay = TimeSpan.FromMinutes(5),
    };

    private static EventBatch Batch() => new()
    {
        SentAt = DateTimeOffset.UtcNow,
        Context = new EventContext { Product = "acme", SessionId = Guid.CreateVersion7() },
        Events = [new TelemetryEvent { Id = Guid.CreateVersion7(), Name = "tick", Version = "1-0-0", Time = DateTimeOffset.UtcNow, Properties = new Dictionary<string, PropertyValue> { ["i"] = 1 } }],
    };
}
