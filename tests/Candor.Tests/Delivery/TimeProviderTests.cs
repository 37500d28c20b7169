using Candor.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Tests.Delivery;

/// <summary>A host's own clock (<see cref="CandorOptions.TimeProvider"/>) drives the client's times and
/// delays; the flush budget stays real.</summary>
public sealed class TimeProviderTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public async Task AHostsFakeClockStampsTheEventsTimesTheBatchsSentAtAndOperationDurations()
    {
        var time = new FakeTimeProvider(Start);
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o => o.TimeProvider = time), environment);

        client.Track("tick", new EventProperty("i", 1));
        time.Advance(TimeSpan.FromMinutes(1));
        using (client.StartOperation("build"))
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
        }

        time.Advance(TimeSpan.FromMinutes(1));
        client.Dispose();

        var events = collector.Events.ToList();
        Assert.Equal([Start, Start + TimeSpan.FromMinutes(1) + TimeSpan.FromMilliseconds(250)], events.Select(e => e.Time));
        Assert.Equal(250, events[1].Properties!["duration_ms"].AsInteger);
        Assert.All(collector.Requests, r => Assert.Equal(Start + TimeSpan.FromMinutes(2) + TimeSpan.FromMilliseconds(250), r.Batch.SentAt));
    }

    [Fact]
    public async Task TheBatchIntervalPassesOnTheHostsClockNotOnTheWall()
    {
        var time = new FakeTimeProvider(Start);
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        using var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o =>
        {
            o.TimeProvider = time;
            o.BatchInterval = TimeSpan.FromMilliseconds(100);
        }), environment);

        client.Track("tick", new EventProperty("i", 1));
        await Task.Delay(500);
        Assert.Empty(collector.Requests);

        // The loop may still be warming up when the clock first moves; move it until the batch leaves.
        await TestClients.Eventually(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            return collector.Events.Any();
        }, "the batch left once the host's clock passed the interval");
    }

    [Fact]
    public async Task AStoppedFakeClockDoesNotHoldDisposeBeyondTheFlushBudget()
    {
        var time = new FakeTimeProvider(Start);
        await using var silent = new Candor.TestSupport.FaultyServer(Candor.TestSupport.Fault.AcceptAndNeverAnswer);
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(silent.BaseAddress, o =>
        {
            o.TimeProvider = time;
            o.FlushBudget = TimeSpan.FromMilliseconds(300);
        }), environment);
        client.Track("tick", new EventProperty("i", 1));

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        client.Dispose();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"Dispose took {stopwatch.Elapsed}");
        Assert.Single(environment.SpoolFiles());
    }

    [Fact]
    public void TheDefaultClockIsTheSystemClock() =>
        Assert.Same(TimeProvider.System, new CandorOptions().TimeProvider);
}
