using Candor.Collector.DataRights;
using Candor.Collector.Storage;
using Candor.Collector.Operations;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Collector.Tests.DataRights;

/// <summary>Retention on a fake clock over a fake store: the cut-offs per product, the schedule, and a
/// failing store that stops neither the other products nor the next pass.</summary>
public sealed class RetentionServiceTests
{
    // Late in the day: the cut-offs are midnights, not this time minus whole days.
    private static readonly DateTimeOffset Now = new(2026, 3, 14, 23, 30, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Midnight = new(2026, 3, 14, 0, 0, 0, TimeSpan.Zero);

    private readonly CountingTimeProvider _time = new(Now);
    private readonly FakeDataRights _store = new(new ForgottenInstalls());

    [Fact]
    public async Task EachConfiguredProductIsCutAtUtcMidnightLessItsOwnRetention()
    {
        var options = new CollectorOptions();
        options.Products["acme"] = new ProductOptions { WriteKey = "wk_acme_0123456789", RetentionDays = 10, QuarantineRetentionDays = 2 };
        options.Products["beta"] = new ProductOptions { WriteKey = "wk_beta_0123456789" };
        var service = Service(options, listed: ["gamma"]);

        Assert.Equal(0, await service.RunOnceAsync(CancellationToken.None));

        Assert.Equal(
            [("acme", Midnight.AddDays(-10), Midnight.AddDays(-2)), ("beta", Midnight.AddDays(-395), Midnight.AddDays(-30))],
            _store.Deletions);
    }

    [Fact]
    public async Task WithNoProductConfiguredEveryStoredProductGetsTheDefaults()
    {
        var service = Service(new CollectorOptions(), listed: ["acme", "gamma"]);
        var deletedBefore = (CollectorMetrics.RetentionDeleted.WithLabels("events").Value, CollectorMetrics.RetentionDeleted.WithLabels("quarantine").Value);

        await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(
            [("acme", Midnight.AddDays(-395), Midnight.AddDays(-30)), ("gamma", Midnight.AddDays(-395), Midnight.AddDays(-30))],
            _store.Deletions);
        // The fake deletes 3 events and 1 quarantined event per product.
        Assert.True(CollectorMetrics.RetentionDeleted.WithLabels("events").Value >= deletedBefore.Item1 + 6);
        Assert.True(CollectorMetrics.RetentionDeleted.WithLabels("quarantine").Value >= deletedBefore.Item2 + 2);
    }

    [Fact]
    public async Task AFailingStoreIsLoggedAndTheOtherProductsAndTheNextPassStillRun()
    {
        _store.FailingProducts["acme"] = 0;
        var service = Service(new CollectorOptions(), listed: ["acme", "beta"]);
        var failuresBefore = CollectorMetrics.RetentionFailures.Value;

        Assert.Equal(1, await service.RunOnceAsync(CancellationToken.None));
        _store.FailingProducts.Clear();
        Assert.Equal(0, await service.RunOnceAsync(CancellationToken.None));

        Assert.Equal(["acme", "beta", "acme", "beta"], _store.Deletions.Select(d => d.Product));
        Assert.True(CollectorMetrics.RetentionFailures.Value >= failuresBefore + 1);
    }

    [Fact]
    public async Task AProductListThatFailsIsTriedAgainAtTheNextPass()
    {
        var fail = true;
        var service = new RetentionService(_store, _ => fail ? throw new InvalidOperationException("down") : Task.FromResult<IReadOnlyList<string>>(["acme"]),
            new CollectorOptions(), _time, NullLogger<RetentionService>.Instance);

        Assert.Equal(1, await service.RunOnceAsync(CancellationToken.None));
        fail = false;
        Assert.Equal(0, await service.RunOnceAsync(CancellationToken.None));

        Assert.Equal(["acme"], _store.Deletions.Select(d => d.Product));
    }

    [Fact]
    public async Task TheFirstPassRunsSoonAfterStartThenOncePerIntervalAndAThrowingStoreStopsNeither()
    {
        _store.FailingProducts["acme"] = 0;
        var service = Service(new CollectorOptions { RetentionInterval = TimeSpan.FromHours(1) }, listed: ["acme"]);
        await service.StartAsync(CancellationToken.None);
        try
        {
            // Each pass is followed by a wait on the clock: the clock moves only once the wait began.
            await WaitForAsync(() => _time.Timers == 1);
            _time.Advance(RetentionService.FirstPassDelay - TimeSpan.FromSeconds(1));
            await Task.Delay(50);
            Assert.Empty(_store.Deletions);

            _time.Advance(TimeSpan.FromSeconds(1));
            await WaitForAsync(() => _store.Deletions.Count == 1 && _time.Timers == 2);
            _time.Advance(TimeSpan.FromMinutes(59));
            await Task.Delay(50);
            Assert.Single(_store.Deletions);

            _time.Advance(TimeSpan.FromMinutes(1));
            await WaitForAsync(() => _store.Deletions.Count == 2 && _time.Timers == 3);
            Assert.NotNull(service.ExecuteTask);
            Assert.False(service.ExecuteTask.IsCompleted);
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task AnIntervalOfZeroTurnsRetentionOff()
    {
        var service = Service(new CollectorOptions { RetentionInterval = TimeSpan.Zero }, listed: ["acme"]);

        await service.StartAsync(CancellationToken.None);
        await service.ExecuteTask!;
        _time.Advance(TimeSpan.FromDays(2));
        await service.StopAsync(CancellationToken.None);

        Assert.Empty(_store.Deletions);
        Assert.Equal(0, _time.Timers);
    }

    [Fact]
    public async Task TheRefresherTakesTombstonesAnotherInstanceKept()
    {
        var forgotten = new ForgottenInstalls();
        forgotten.Load(FakeDataRights.Key, []);
        var store = new FakeDataRights(forgotten);
        var install = Guid.NewGuid();
        store.KeepTombstoneOfAnotherInstance(forgotten.Tombstone("acme", install));
        var refresher = new TombstoneRefresher(store, forgotten, _time, NullLogger<TombstoneRefresher>.Instance);
        Assert.False(forgotten.IsForgotten("acme", install));

        await refresher.StartAsync(CancellationToken.None);
        await WaitForAsync(() => _time.Timers == 1);
        _time.Advance(TombstoneRefresher.Interval);
        await WaitForAsync(() => forgotten.IsForgotten("acme", install));
        await refresher.StopAsync(CancellationToken.None);
    }

    private RetentionService Service(CollectorOptions options, IReadOnlyList<string> listed) =>
        new(_store, _ => Task.FromResult(listed), options, _time, NullLogger<RetentionService>.Instance);

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 10 s.");
            await Task.Delay(10);
        }
    }
}

/// <summary>A fake clock that counts the timers made on it: a background service's wait has begun
/// once its timer exists (it starts on another thread), and only then may a test move the clock.</summary>
internal sealed class CountingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private int _timers;

    public int Timers => Volatile.Read(ref _timers);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _timers);
        return base.CreateTimer(callback, state, dueTime, period);
    }
}
