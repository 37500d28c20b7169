using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.TestSupport;
using DuckDB.NET.Data;
using static Candor.Collector.Tests.Storage.DuckDb.DuckDbDataRightsData;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>Retention on the DuckDB store: exactly the expired rows go, and the analytics over what remains
/// are those of a file that only ever held it.</summary>
public sealed class DuckDbDataRightsRetentionTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly TemporaryDirectory _directory = new("candor-retention");

    private string DatabasePath => _directory.Combine("candor.duckdb");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task RetentionDeletesExactlyTheExpiredRowsAndTheAnalyticsOverWhatRemainsAreARecomputation()
    {
        // install a: all expired; b: first events expired, later ones kept; c: all kept; plus events without an install.
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var (eventsBefore, quarantineBefore) = (Today.AddDays(-30), Today.AddDays(-10));
        var events = new List<EventRecord>
        {
            Event(a, 100, 0), Event(a, 45, 1), Event(a, 30.01, 2),
            Event(b, 90, 3), Event(b, 31, 4), Event(b, 30, 5), Event(b, 12, 6), Event(b, 2, 7),
            Event(c, 29, 8), Event(c, 3, 9), Event(c, 1, 10),
            Event(null, 60, 11), Event(null, 5, 12),
        };
        var quarantine = new[] { Quarantined(a, 40), Quarantined(b, 11), Quarantined(c, 10), Quarantined(null, 9), Quarantined(b, 1) };
        var otherProduct = Event(a, 100, product: "globex");
        var fresh = Event(a, 0.5, 13);
        RetentionOutcome outcome;
        string answers;
        await using (var store = await OpenAsync(DatabasePath))
        {
            await store.WriteAsync([.. events, otherProduct], [.. quarantine, Quarantined(a, 40, "globex")], None);
            outcome = await store.DeleteExpiredAsync("acme", eventsBefore, quarantineBefore, None);
            Assert.Equal(new RetentionOutcome(0, 0), await store.DeleteExpiredAsync("acme", eventsBefore, quarantineBefore, None));
            using var analytics = new DuckDbAnalyticsStore(DatabasePath, barrier: store);
            answers = await AnswersAsync(analytics);

            // Install a has no event left: a new one numbers it anew, first seen now, as in a file that never held its old ones.
            await store.WriteAsync([fresh], [], None);
            await store.WaitForStoredAsync(None);
        }

        var remaining = events.Where(e => e.Time >= eventsBefore).ToList();
        Assert.Equal(new RetentionOutcome(events.Count - remaining.Count, 2), outcome);
        Assert.Equal(remaining.Select(e => e.Id).Append(fresh.Id).Order(), Rows("SELECT event_id FROM events WHERE product = 'acme'", r => r.GetGuid(0)).Order());
        Assert.Equal(1, Rows("SELECT count(*) FROM events WHERE product = 'globex'", r => r.GetInt64(0)).Single());
        Assert.Equal(
            quarantine.Skip(2).Select(q => q.EventId!.Value).Order(),
            Rows("SELECT event_id FROM quarantine WHERE product = 'acme'", r => r.GetGuid(0)).Order());
        Assert.Equal(1, Rows("SELECT count(*) FROM quarantine WHERE product = 'globex'", r => r.GetInt64(0)).Single());
        // Each install's first-seen time is its earliest remaining event.
        Assert.Equal(
            Rows("SELECT install_id, min(event_time) FROM events WHERE product = 'acme' AND install_id IS NOT NULL GROUP BY ALL ORDER BY 1", r => (r.GetGuid(0), r.GetDateTime(1))),
            Rows("SELECT install_id, first_seen FROM install_numbers WHERE product = 'acme' ORDER BY 1", r => (r.GetGuid(0), r.GetDateTime(1))));
        Assert.True(Rows($"SELECT seq FROM install_numbers WHERE product = 'acme' AND install_id = '{a}'", r => r.GetInt32(0)).Single() > 4, "a new number");

        // The same answers as a file fed only the remaining events.
        var recomputedPath = _directory.Combine("recomputed.duckdb");
        await using (var store = await OpenAsync(recomputedPath))
        {
            await store.WriteAsync(remaining, [], None);
        }

        using var recomputed = new DuckDbAnalyticsStore(recomputedPath);
        Assert.Equal(await AnswersAsync(recomputed), answers);
    }

    [Fact]
    public async Task RetentionAndForgetRunWhileTheApplierKeepsStoringGroups()
    {
        var (x, y) = (Guid.NewGuid(), Guid.NewGuid());
        await using var store = await OpenAsync(DatabasePath);
        await store.WriteAsync([Event(x, 50), Event(y, 50), Event(x, 1)], [Quarantined(x, 50)], None);
        using var stop = new CancellationTokenSource();
        var written = 0;
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await store.WriteAsync([Event(y, 0, written), Event(y, 40, written)], [Quarantined(y, 0)], None);
                Interlocked.Increment(ref written);
            }
        });

        // At least one group of the writer's (with an expired event) is acknowledged before retention runs.
        while (Volatile.Read(ref written) == 0)
        {
            await Task.Delay(10);
        }

        var retention = await store.DeleteExpiredAsync("acme", Today.AddDays(-30), Today.AddDays(-30), None);
        var forget = await store.ForgetAsync("acme", x, store.Forgotten.Tombstone("acme", x), None);
        await stop.CancelAsync();
        await writer;
        await store.WaitForStoredAsync(None);

        Assert.True(retention.Events >= 3 && retention.Quarantine == 1, $"{retention}");
        Assert.Equal(new ForgetOutcome(ForgetStatus.Forgotten, 1, 0), forget);
        Assert.Empty(Rows($"SELECT 1 FROM events WHERE install_id = '{x}'", r => r.GetInt32(0)));
        Assert.Equal(written, Rows($"SELECT count(*) FROM events WHERE install_id = '{y}' AND event_time >= '{Today.AddDays(-1).UtcDateTime:O}'", r => r.GetInt64(0)).Single());
        Assert.Equal(
            Rows("SELECT install_id, min(event_time) FROM events WHERE install_id IS NOT NULL GROUP BY ALL ORDER BY 1", r => (r.GetGuid(0), r.GetDateTime(1))),
            Rows("SELECT install_id, first_seen FROM install_numbers ORDER BY 1", r => (r.GetGuid(0), r.GetDateTime(1))));
    }

    private List<T> Rows<T>(string sql, Func<DuckDBDataReader, T> read) => DuckDbRows.Read(DatabasePath, sql, read);
}
