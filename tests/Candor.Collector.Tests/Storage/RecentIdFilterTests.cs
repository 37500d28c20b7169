using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using DuckDB.NET.Data;

namespace Candor.Collector.Tests.Storage;

public sealed class RecentIdFilterTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "candor-recent-ids-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void AnAddedIdIsNeverReportedAbsentAndFewFreshIdsAreReportedPresent()
    {
        var filter = new RecentIdFilter(100_000, RecentIdFilter.BoundAt(DateTimeOffset.UtcNow.AddMinutes(-1)));
        var added = Enumerable.Range(0, 100_000).Select(_ => Guid.CreateVersion7()).ToList();
        added.ForEach(filter.Add);

        Assert.All(added, id => Assert.True(filter.MayContain(id)));
        Assert.True(filter.IsFull);
        var falsePositives = Enumerable.Range(0, 100_000).Count(_ => filter.MayContain(Guid.CreateVersion7()));
        Assert.InRange(falsePositives, 0, 2_500); // ≈ 1 % by design
    }

    [Fact]
    public void TheBoundCoversIdsMadeAtOrAfterItsTimeOnly()
    {
        var now = DateTimeOffset.UtcNow;
        var filter = new RecentIdFilter(10, RecentIdFilter.BoundAt(now));

        Assert.True(filter.Covers(Guid.CreateVersion7(now)));
        Assert.True(filter.Covers(Guid.CreateVersion7(now.AddDays(3))));
        Assert.False(filter.Covers(Guid.CreateVersion7(now.AddMilliseconds(-1))));
        Assert.False(filter.Covers(Guid.CreateVersion7(now.AddDays(-7))));

        // An id it does not cover is not taken in, so it can never be cleared wrongly later.
        var old = Guid.CreateVersion7(now.AddHours(-1));
        filter.Add(old);
        Assert.Equal(0, filter.Count);
    }

    [Fact]
    public void CoversAgreesWithHowDuckDbOrdersUuids()
    {
        // The filter is loaded with "event_id >= bound" in SQL and consulted with Covers in C#: the
        // two orders must agree, for UUIDv7 ids of any time and for other ids a client might send.
        var now = DateTimeOffset.UtcNow;
        var bound = RecentIdFilter.BoundAt(now);
        var filter = new RecentIdFilter(10, bound);
        var ids = Enumerable.Range(-500, 1000).Select(i => Guid.CreateVersion7(now.AddMilliseconds(i * 37)))
            .Concat(Enumerable.Range(0, 500).Select(_ => Guid.NewGuid()))
            .Append(bound).Append(Guid.Empty).Append(Guid.AllBitsSet)
            .ToList();

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT $id >= $bound";
        var idParameter = new DuckDBParameter("id", Guid.Empty);
        command.Parameters.Add(idParameter);
        command.Parameters.Add(new DuckDBParameter("bound", bound));
        foreach (var id in ids)
        {
            idParameter.Value = id;
            Assert.Equal((bool)command.ExecuteScalar()!, filter.Covers(id));
        }
    }

    [Fact]
    public async Task TheStoreFindsEveryDuplicateOfAnyAgeAcrossFilterRebuildsAndRestarts()
    {
        var path = Path.Combine(_directory, "candor.duckdb");
        var now = DateTimeOffset.UtcNow;
        // Fresh ids, ids from a week ago (a spool) and from the future (a fast clock); a capacity of
        // 50 makes the writer rebuild its filter many times along the way.
        var records = Enumerable.Range(0, 600).Select(i => EventStoreContract.Record("acme", (i % 3) switch
        {
            0 => Guid.CreateVersion7(),
            1 => Guid.CreateVersion7(now.AddDays(-7).AddSeconds(i)),
            _ => Guid.CreateVersion7(now.AddHours(2).AddSeconds(i)),
        })).ToList();

        await using (var store = new DuckDbEventStore(path, recentIdCapacity: 50))
        {
            await store.InitializeAsync(CancellationToken.None);
            foreach (var batch in records.Chunk(20))
            {
                Assert.All(await store.WriteAsync(batch, [], CancellationToken.None), Assert.False);
            }

            foreach (var batch in records.Chunk(35))
            {
                Assert.All(await store.WriteAsync(batch, [], CancellationToken.None), Assert.True);
            }
        }

        await using (var reopened = new DuckDbEventStore(path))
        {
            await reopened.InitializeAsync(CancellationToken.None);
            var again = await reopened.WriteAsync([.. records, EventStoreContract.Record("acme")], [], CancellationToken.None);
            Assert.All(again[..^1], Assert.True);
            Assert.False(again[^1]);
        }

        using var connection = new DuckDBConnection($"Data Source={path}");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*), count(DISTINCT event_id) FROM events";
        using var reader = count.ExecuteReader();
        reader.Read();
        Assert.Equal(601L, reader.GetInt64(0));
        Assert.Equal(601L, reader.GetInt64(1));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
