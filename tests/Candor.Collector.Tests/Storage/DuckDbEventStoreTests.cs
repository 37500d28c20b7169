using Candor.Collector.Analytics;
using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using DuckDB.NET.Data;

namespace Candor.Collector.Tests.Storage;

public sealed class DuckDbEventStoreTests : EventStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "candor-duckdb-" + Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Combine(_directory, "candor.duckdb");

    private protected override IEventStore Create() => new DuckDbEventStore(DatabasePath);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task TheWriterNumbersEachInstallOnceAcrossGroupsAndRestartsKeepsItsFirstEventAndTheAnalyticsCountThem()
    {
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        // A spooled event of install a, sent late: its first event moves earlier.
        var late = For(a, DateTimeOffset.UtcNow.AddMinutes(-30));
        await using (var store = new DuckDbEventStore(DatabasePath))
        {
            await store.InitializeAsync(CancellationToken.None);
            await store.WriteAsync([For(a), For(b), For(a), Anonymous()], [], CancellationToken.None);
            var repeat = For(b);
            await store.WriteAsync([repeat, For(a)], [], CancellationToken.None);
            // A duplicate of a stored event numbers nothing new.
            await store.WriteAsync([Record("acme", repeat.Id)], [], CancellationToken.None);
        }

        await using (var reopened = new DuckDbEventStore(DatabasePath))
        {
            await reopened.InitializeAsync(CancellationToken.None);
            await reopened.WriteAsync([For(c), late], [], CancellationToken.None);
        }

        Assert.Equal(
            [(a, 1), (b, 2), (c, 3)],
            Rows("SELECT install_id, seq FROM install_numbers ORDER BY seq", r => (r.GetGuid(0), r.GetInt32(1))));
        Assert.Equal(
            Rows("SELECT install_id, min(event_time) FROM events WHERE install_id IS NOT NULL GROUP BY install_id ORDER BY install_id", r => (r.GetGuid(0), r.GetDateTime(1))),
            Rows("SELECT install_id, first_seen FROM install_numbers ORDER BY install_id", r => (r.GetGuid(0), r.GetDateTime(1))));
        Assert.Equal(
            late.Time.UtcDateTime.Ticks / 10,
            Rows("SELECT first_seen FROM install_numbers WHERE seq = 1", r => r.GetDateTime(0).Ticks / 10).Single());
        Assert.Equal(
            [(a, 1, 4L), (b, 2, 2L), (c, 3, 1L), ((Guid?)null, (int?)null, 1L)],
            Rows("SELECT install_id, install_seq, count(*) FROM events GROUP BY ALL ORDER BY install_seq NULLS LAST",
                r => (r.IsDBNull(0) ? (Guid?)null : r.GetGuid(0), r.IsDBNull(1) ? (int?)null : r.GetInt32(1), r.GetInt64(2))));

        using var analytics = new DuckDbAnalyticsStore(DatabasePath);
        var summary = await analytics.SummaryAsync(
            new AnalyticsQuery("acme", DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1)), CancellationToken.None);
        Assert.Equal(8, summary.Events);
        Assert.Equal(3, summary.Installs);
        Assert.Equal(3, summary.NewInstalls);
    }

    [Fact]
    public async Task AGroupThatFailsGivesBackTheInstallNumbersItTook()
    {
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        await using (var store = new DuckDbEventStore(DatabasePath))
        {
            await store.InitializeAsync(CancellationToken.None);
            var broken = new QuarantineRecord
            {
                Product = "acme",
                ReasonCode = null!, // NOT NULL in the table: the group's transaction fails
                Message = "m",
                ReceivedAt = DateTimeOffset.UtcNow,
                EventJson = "{}",
            };
            await Assert.ThrowsAnyAsync<Exception>(() => store.WriteAsync([For(a)], [broken], CancellationToken.None));
            await store.WriteAsync([For(b)], [], CancellationToken.None);
        }

        Assert.Equal([(b, 1)], Rows("SELECT install_id, seq FROM install_numbers", r => (r.GetGuid(0), r.GetInt32(1))));
        Assert.Equal([b], Rows("SELECT install_id FROM events", r => r.GetGuid(0)));
    }

    private static EventRecord For(Guid? install, DateTimeOffset? time = null)
    {
        var record = Record("acme", time: time);
        record.Context.InstallId = install;
        return record;
    }

    private static EventRecord Anonymous() => For(null);

    private List<T> Rows<T>(string sql, Func<DuckDBDataReader, T> read)
    {
        using var connection = new DuckDBConnection($"Data Source={DatabasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
