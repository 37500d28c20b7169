using Candor.Collector.Analytics;
using Candor.Collector.DataRights;
using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.Collector.Storage.Postgres;
using Candor.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Candor.Collector.Tests.Storage.DuckDb.DuckDbDataRightsData;

namespace Candor.Collector.Tests.DataRights;

/// <summary>
/// Retention as the collector runs it: the retention service on a fake clock over each real store. The
/// clock alone decides what goes; what remains answers every analytics question as a store that was
/// only ever given it does (on PostgreSQL, from its rollups).
/// </summary>
public sealed class RetentionOnStoresTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new("candor-retention-clock");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public Task OnDuckDb() => RunAsync(async name =>
    {
        var store = await OpenAsync(_directory.Combine(name + ".duckdb"));
        return (store, new DuckDbAnalyticsStore(_directory.Combine(name + ".duckdb"), barrier: store));
    });

    [Fact]
    public async Task OnPostgres()
    {
        await using var server = await PostgresServer.StartAsync();
        await RunAsync(async _ =>
        {
            var connectionString = await server.CreateDatabaseAsync();
            var store = new PostgresEventStore(connectionString) { MoveInterval = Timeout.InfiniteTimeSpan };
            await store.InitializeAsync(CancellationToken.None);
            return (store, new PostgresAnalyticsStore(connectionString));
        });
    }

    private static async Task RunAsync(Func<string, Task<(IEventStore Store, IAnalyticsStore Analytics)>> open)
    {
        // Twenty days on from the seeded data: 30 days of events and 25 of quarantine keep what is newer
        // than 10 and 5 days before Today.
        var clock = new FakeTimeProvider(Today.AddDays(20).AddHours(10));
        var options = new CollectorOptions();
        options.Products["acme"] = new ProductOptions { WriteKey = "wk_acme_0123456789abcdef", RetentionDays = 30, QuarantineRetentionDays = 25 };
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var events = new List<EventRecord> { Event(a, 15, 0), Event(a, 12, 1), Event(a, 9, 2), Event(b, 11, 3), Event(b, 2, 4), Event(b, 1, 5) };
        var quarantine = new[] { Quarantined(a, 8), Quarantined(b, 6), Quarantined(b, 3) };
        var remaining = events.Where(e => e.Time >= Today.AddDays(-10)).ToList();

        var (store, analytics) = await open("aged");
        var (fresh, freshAnalytics) = await open("fresh");
        await using (store)
        await using (fresh)
        using (analytics)
        using (freshAnalytics)
        {
            store.Forgotten().Load(await store.ReadOrCreateTombstoneKeyAsync(CancellationToken.None), []);
            await store.WriteAsync(events, quarantine, CancellationToken.None);
            await fresh.WriteAsync(remaining, [], CancellationToken.None);
            var service = new RetentionService(store, _ => Task.FromResult<IReadOnlyList<string>>(["acme"]), options, clock, NullLogger<RetentionService>.Instance);

            Assert.Equal(0, await service.RunOnceAsync(CancellationToken.None));

            Assert.Equal(await AnswersAsync(freshAnalytics), await AnswersAsync(analytics));
            var heldA = await store.ReadInstallAsync("acme", a, 100, CancellationToken.None);
            var heldB = await store.ReadInstallAsync("acme", b, 100, CancellationToken.None);
            Assert.Equal([events[2].Id], heldA!.Events.Select(e => e.Id));
            Assert.Empty(heldA.Quarantine);
            Assert.Equal(remaining.Where(e => e.Context.InstallId == b).Select(e => e.Id).Order(), heldB!.Events.Select(e => e.Id).Order());
            Assert.Equal([quarantine[2].EventId], heldB.Quarantine.Select(q => q.EventId));
        }
    }
}

file static class StoreForgotten
{
    /// <summary>The store's tombstone set, which the collector loads at start.</summary>
    public static ForgottenInstalls Forgotten(this IEventStore store) => store switch
    {
        DuckDbEventStore duckDb => duckDb.Forgotten,
        PostgresEventStore postgres => postgres.Forgotten,
        _ => throw new ArgumentException("unknown store", nameof(store)),
    };
}
