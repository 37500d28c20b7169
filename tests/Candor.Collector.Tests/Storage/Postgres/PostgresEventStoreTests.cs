using Candor.Collector.Storage;
using Candor.Collector.Storage.Postgres;

namespace Candor.Collector.Tests.Storage.Postgres;

[Collection("postgres")]
public sealed class PostgresEventStoreTests(PostgresFixture postgres) : EventStoreContract
{
    private string _connectionString = "";

    private protected override IEventStore Create() => new PostgresEventStore(_connectionString);

    public override async Task InitializeAsync() => _connectionString = await postgres.Server.CreateDatabaseAsync();

    [Fact]
    public async Task TwoStoresOnOneDatabaseWritingTheSameIdsAtOnceStoreEachOnce()
    {
        await using var first = new PostgresEventStore(_connectionString);
        await using var second = new PostgresEventStore(_connectionString);
        await Task.WhenAll(first.InitializeAsync(CancellationToken.None), second.InitializeAsync(CancellationToken.None));
        var records = Enumerable.Range(0, 2000).Select(_ => Record("acme")).ToList();
        var reversed = records.AsEnumerable().Reverse().ToList();

        var results = await Task.WhenAll(
            first.WriteAsync(records, [], CancellationToken.None),
            second.WriteAsync(reversed, [], CancellationToken.None));

        // Every id stored exactly once: one of the two writes claimed it, the other saw a duplicate.
        var claimedByFirst = records.Where((_, i) => !results[0][i]).Select(r => r.Id).ToHashSet();
        var claimedBySecond = reversed.Where((_, i) => !results[1][i]).Select(r => r.Id).ToHashSet();
        Assert.Empty(claimedByFirst.Intersect(claimedBySecond));
        Assert.Equal(records.Count, claimedByFirst.Count + claimedBySecond.Count);
        Assert.Equal(records.Count, (await first.ReadRecentAsync("acme", 10_000, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task AWriterCommittingSeveralGroupsAtOnceStoresEachEventOnceAndAnswersEveryRequest()
    {
        await using var store = new PostgresEventStore(_connectionString, concurrentWrites: 3);
        await store.InitializeAsync(CancellationToken.None);
        var writer = new GroupCommitWriter(store, new CollectorOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger<GroupCommitWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        // 60 batches of 50, each sent twice (a client retrying while its first attempt is in flight).
        var batches = Enumerable.Range(0, 60).Select(_ => Enumerable.Range(0, 50).Select(_ => Record("acme")).ToList()).ToList();
        var requests = batches.Concat(batches).Select(b => new WriteRequest(b, [])).ToList();
        var tasks = requests.Select(async r =>
        {
            await Task.Yield();
            Assert.True(writer.TryEnqueue(r));
            return await r.Committed;
        }).ToList();

        var answers = await Task.WhenAll(tasks);
        await writer.StopAsync(CancellationToken.None);

        // Each event was accepted by exactly one of its two requests, and stored once.
        for (var b = 0; b < batches.Count; b++)
        {
            Assert.All(Enumerable.Range(0, 50), i => Assert.True(answers[b][i] != answers[b + batches.Count][i]));
        }

        Assert.Equal(3000, (await store.ReadRecentAsync("acme", 10_000, CancellationToken.None)).Select(e => e.Id).Distinct().Count());
        Assert.Equal(3000, (await store.ReadRecentAsync("acme", 10_000, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task EventsLandInAMonthlyPartitionOfTheEventsTable()
    {
        await using var store = new PostgresEventStore(_connectionString);
        await store.InitializeAsync(CancellationToken.None);
        await store.WriteAsync([Record("acme")], [], CancellationToken.None);

        var database = Candor.TestSupport.PostgresServer.DatabaseOf(_connectionString);
        var partition = await postgres.Server.QueryAsync(database, "SELECT tableoid::regclass FROM events");
        Assert.Equal("events_" + DateTimeOffset.UtcNow.ToString("yyyy_MM", System.Globalization.CultureInfo.InvariantCulture), partition);
    }
}
