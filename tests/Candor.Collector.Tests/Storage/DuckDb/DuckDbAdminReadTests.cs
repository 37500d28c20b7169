using Candor.Collector.Storage.DuckDb;
using Candor.TestSupport;
using DuckDB.NET.Data;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>The admin reads at a size where a plain ORDER BY ... LIMIT ran out of a 48 MB memory limit.</summary>
public sealed class DuckDbAdminReadTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly TemporaryDirectory _directory = new("candor-duckdb-reads");

    private string DatabasePath => _directory.Combine("candor.duckdb");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task TheNewestThousandEventsAndQuarantinedEventsReadWithinA48MbLimitAtThreeHundredThousandEvents()
    {
        const int Events = 300_000;
        const int Wide = 20_000; // the newest, with 4 KB of properties each
        const int Quarantined = 20_000; // with a 4 KB message and a 4 KB excerpt each
        var start = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        await using (var store = new DuckDbEventStore(DatabasePath))
        {
            await store.InitializeAsync(None); // creates the tables
        }

        // Bulk-inserted for speed; the strings differ row to row so they do not compress to nothing.
        Execute($$"""
            INSERT INTO events (product, event_id, name, schema_version, event_time, received_at, install_id, session_id,
                                product_version, os_family, ci, properties, country)
            SELECT 'acme', uuidv7(), 'command', '1-0-0', $1 + i * INTERVAL 1 SECOND, $1 + i * INTERVAL 1 SECOND, uuid(), uuid(),
                   '1.4.0', 'linux', false,
                   CASE WHEN i >= {{Events - Wide}} THEN '{"text":"' || repeat(md5(i::VARCHAR), 128) || '"}' ELSE '{"exit_code":' || (i % 7) || '}' END,
                   'GB'
            FROM range({{Events}}) t(i)
            """, start);
        Execute($"""
            INSERT INTO quarantine (product, event_id, reason_code, message, schema_ref, received_at, event_json)
            SELECT 'acme', uuidv7(), 'unknown_schema', repeat(md5(i::VARCHAR), 128), 'acme/nope-' || (i % 5) || '/latest',
                   $1 + i * INTERVAL 1 SECOND, repeat(md5((i + 1)::VARCHAR), 128)
            FROM range({Quarantined}) t(i)
            """, start);
        Execute("CHECKPOINT");

        await using var reopened = new DuckDbEventStore(DatabasePath, memoryLimit: "48MB");
        await reopened.InitializeAsync(None);

        var events = await reopened.ReadRecentAsync("acme", 1000, None);
        Assert.Equal(1000, events.Count);
        Assert.Equal(start.AddSeconds(Events - 1), events[0].ReceivedAt.UtcDateTime);
        Assert.Equal(
            Enumerable.Range(0, 1000).Select(i => start.AddSeconds(Events - 1 - i)),
            events.Select(e => e.ReceivedAt.UtcDateTime));
        Assert.All(events, e => Assert.Equal(4096, e.Properties!["text"].AsString!.Length));

        var quarantine = await reopened.ReadQuarantineAsync("acme", 1000, None);
        Assert.Equal(
            Enumerable.Range(0, 1000).Select(i => start.AddSeconds(Quarantined - 1 - i)),
            quarantine.Select(q => q.ReceivedAt.UtcDateTime));
        Assert.All(quarantine, q => Assert.Equal((4096, 4096), (q.Message.Length, q.EventJson.Length)));

        var summary = await reopened.SummarizeQuarantineAsync("acme", start, start.AddDays(1), None);
        Assert.Equal(Quarantined, summary.Total);
        Assert.Equal(5, summary.BySchema.Count);

        // The most the admin API asks for.
        Assert.Equal(10_000, (await reopened.ReadQuarantineAsync("acme", 10_000, None)).Count);
        Assert.Empty(await reopened.ReadRecentAsync("other", 1000, None));
    }

    [Fact]
    public async Task TheQuarantineSummaryNamesTheLargestSchemasWithinA48MbLimitWhenEveryRejectionNamesItsOwn()
    {
        const int Quarantined = 300_000; // each with a schema reference of its own, as long as ingest lets one be
        var start = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        await using (var store = new DuckDbEventStore(DatabasePath))
        {
            await store.InitializeAsync(None);
        }

        Execute($"""
            INSERT INTO quarantine (product, event_id, reason_code, message, schema_ref, received_at, event_json)
            SELECT 'acme', uuidv7(), 'unknown_schema', 'No schema.',
                   CASE WHEN i % 1000 = 0 THEN 'acme/common/latest' ELSE 'acme/' || repeat(md5(i::VARCHAR), 4) || '/' || repeat(md5((i + 1)::VARCHAR), 4) END,
                   $1 + i * INTERVAL 100 MILLISECOND, 'null'
            FROM range({Quarantined}) t(i)
            """, start);

        await using var reopened = new DuckDbEventStore(DatabasePath, memoryLimit: "48MB");
        await reopened.InitializeAsync(None);
        var summary = await reopened.SummarizeQuarantineAsync("acme", start, start.AddDays(1), None);

        Assert.Equal(Quarantined, summary.Total);
        Assert.Equal(Candor.Collector.Storage.QuarantineSummary.MaxSchemas, summary.BySchema.Count);
        Assert.Equal(new Candor.Collector.Storage.QuarantineCount("acme/common/latest", Quarantined / 1000), summary.BySchema[0]);
        Assert.All(summary.BySchema.Skip(1), s => Assert.Equal(1, s.Events));
    }

    private void Execute(string sql, DateTime? start = null)
    {
        using var connection = new DuckDBConnection($"Data Source={DatabasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (start is { } value)
        {
            command.Parameters.Add(new DuckDBParameter(value));
        }

        command.ExecuteNonQuery();
    }
}
