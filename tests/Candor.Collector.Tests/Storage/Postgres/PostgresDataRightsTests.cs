using Candor.Collector.Storage;
using Candor.Collector.Storage.Postgres;
using Npgsql;

namespace Candor.Collector.Tests.Storage.Postgres;

/// <summary>
/// Forget, access and retention on PostgreSQL, against the random history of
/// <see cref="PostgresRollupTests"/>: what is deleted is gone from the events, the quarantine and
/// every rollup, and what remains answers exactly as if the deleted events had never been written.
/// </summary>
[Collection("postgres")]
public sealed class PostgresDataRightsTests(PostgresFixture postgres)
{
    private static readonly Guid Forgotten = new("00000000-0000-4000-9000-000000000003");

    [Fact]
    public async Task AForgottenInstallLeavesNothingAndEveryOtherAnswerIsAsIfItHadNeverWritten()
    {
        var groups = PostgresRollupTests.RandomGroups(new Random(11));
        var withIt = await postgres.Server.CreateDatabaseAsync();
        var without = await postgres.Server.CreateDatabaseAsync();
        var quarantine = new[] { Quarantined(Forgotten), Quarantined(Forgotten), Quarantined(Guid.NewGuid()), Quarantined(null) };
        await using (var store = await OpenAsync(withIt))
        await using (var reference = await OpenAsync(without))
        {
            foreach (var group in groups)
            {
                await store.WriteAsync(group, [], default);
                await reference.WriteAsync([.. group.Where(e => e.Context.InstallId != Forgotten)], [], default);
            }

            await store.WriteAsync([], quarantine, default);
            await reference.WriteAsync([], [.. quarantine.Where(q => q.InstallId != Forgotten)], default);
            var held = await ScalarAsync(withIt, $"SELECT count(*) FROM events WHERE install_id = '{Forgotten}'");
            Assert.True(held > 10);
            // Its counts are still pending (never folded), as ingest leaves them.
            Assert.True(await ScalarAsync(withIt, "SELECT count(*) FROM day_counts_pending") > 0);

            var outcome = await store.ForgetAsync("acme", Forgotten, store.Forgotten.Tombstone("acme", Forgotten), default);

            Assert.Equal(new ForgetOutcome(ForgetStatus.Forgotten, held, 2), outcome);
            Assert.True(store.Forgotten.IsForgotten("acme", Forgotten));
            Assert.Null(await store.ReadInstallAsync("acme", Forgotten, 100, default));
            foreach (var table in new[] { "events", "quarantine", "install_months", "event_months" })
            {
                Assert.Equal(0L, await ScalarAsync(withIt, $"SELECT count(*) FROM {table} WHERE install_id = '{Forgotten}'"));
            }

            Assert.Equal(2L, await ScalarAsync(withIt, "SELECT count(*) FROM quarantine"));
        }

        // Every analytics answer of the forgetting database, from its rollups, equals the event scan
        // of a database that never held the install.
        using (var rollups = new PostgresAnalyticsStore(withIt))
        using (var scan = new PostgresAnalyticsStore(without, rollups: false))
        {
            var (compared, nonEmpty) = await PostgresRollupTests.CompareAsync(rollups, scan);
            Assert.True(nonEmpty > 300, $"only {nonEmpty} of {compared} answers had rows");
        }

        await AssertRollupsEqualABackfillAsync(withIt);
    }

    [Fact]
    public async Task AnInstallNeverSeenIsUnknownAndNothingIsWritten()
    {
        var database = await postgres.Server.CreateDatabaseAsync();
        await using var store = await OpenAsync(database);
        await store.WriteAsync([.. PostgresRollupTests.RandomGroups(new Random(3))[0]], [], default);

        var outcome = await store.ForgetAsync("acme", Guid.NewGuid(), store.Forgotten.Tombstone("acme", Guid.NewGuid()), default);

        Assert.Equal(new ForgetOutcome(ForgetStatus.Unknown, 0, 0), outcome);
        Assert.Equal(0L, await ScalarAsync(database, "SELECT count(*) FROM forgotten_installs"));
        Assert.Equal(0, store.Forgotten.Count);
    }

    [Fact]
    public async Task AnotherInstanceSharesTheKeyAndTheTombstonesAndRefusesTheForgottenInstallsLaterEvents()
    {
        var database = await postgres.Server.CreateDatabaseAsync();
        await using var first = new PostgresEventStore(database);
        await using var second = new PostgresEventStore(database);
        await Task.WhenAll(first.InitializeAsync(default), second.InitializeAsync(default));
        var keys = await Task.WhenAll(first.ReadOrCreateTombstoneKeyAsync(default), second.ReadOrCreateTombstoneKeyAsync(default));
        Assert.Equal(32, keys[0].Length);
        Assert.Equal(keys[0], keys[1]);
        Assert.Equal(keys[0], await first.ReadOrCreateTombstoneKeyAsync(default));
        // Both have written (so both have loaded the key and the, still empty, tombstones).
        await first.WriteAsync([Event(Forgotten)], [], default);
        await second.WriteAsync([Event(Guid.NewGuid())], [], default);

        var tombstone = first.Forgotten.Tombstone("acme", Forgotten);
        Assert.Equal(ForgetStatus.Forgotten, (await first.ForgetAsync("acme", Forgotten, tombstone, default)).Status);

        // The second instance's memory does not know it; the database does.
        Assert.False(second.Forgotten.IsForgotten("acme", Forgotten));
        var other = Event(Guid.NewGuid());
        var duplicate = await second.WriteAsync([Event(Forgotten), other], [Quarantined(Forgotten)], default);
        Assert.Equal([true, false], duplicate);
        Assert.True(second.Forgotten.IsForgotten("acme", Forgotten));
        Assert.Equal(0L, await ScalarAsync(database, $"SELECT count(*) FROM events WHERE install_id = '{Forgotten}'"));
        Assert.Equal(0L, await ScalarAsync(database, "SELECT count(*) FROM quarantine"));
        Assert.Equal(tombstone, Assert.Single(await second.ReadTombstonesAsync(default)));

        // Forgetting again finds nothing more and keeps the one tombstone.
        Assert.Equal(new ForgetOutcome(ForgetStatus.AlreadyForgotten, 0, 0), await second.ForgetAsync("acme", Forgotten, tombstone, default));
        Assert.Equal(1L, await ScalarAsync(database, "SELECT count(*) FROM forgotten_installs"));
    }

    [Fact]
    public async Task AnInstallForgottenWhileAnotherInstanceKeepsWritingItsEventsKeepsNothing()
    {
        var database = await postgres.Server.CreateDatabaseAsync();
        await using var forgetting = await OpenAsync(database);
        await using var writing = await OpenAsync(database);
        await forgetting.WriteAsync([Event(Forgotten)], [], default);
        var others = Guid.NewGuid();
        var dropped = 0;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var written = 0;
            while (!stop.IsCancellationRequested || written < 20)
            {
                var duplicate = await writing.WriteAsync([Event(Forgotten), Event(Forgotten), Event(others)], [Quarantined(Forgotten)], default);
                dropped += duplicate.Count(d => d);
                written++;
            }
        });
        while (await ScalarAsync(database, $"SELECT count(*) FROM events WHERE install_id = '{Forgotten}'") < 20)
        {
            await Task.Delay(10);
        }

        var outcome = await forgetting.ForgetAsync("acme", Forgotten, forgetting.Forgotten.Tombstone("acme", Forgotten), default);
        await Task.Delay(200);
        await stop.CancelAsync();
        await writer;

        Assert.True(outcome.Events >= 20 && outcome.Quarantine >= 10, $"{outcome}");
        Assert.True(dropped >= 2, $"{dropped} events dropped after the forget");
        foreach (var table in new[] { "events", "quarantine", "install_months", "event_months" })
        {
            Assert.Equal(0L, await ScalarAsync(database, $"SELECT count(*) FROM {table} WHERE install_id = '{Forgotten}'"));
        }

        Assert.True(await ScalarAsync(database, $"SELECT count(*) FROM events WHERE install_id = '{others}'") >= 20);
        await AssertRollupsEqualABackfillAsync(database);
    }

    [Fact]
    public async Task AccessReadsTheInstallsEventsNewestFirstAndItsQuarantinedEvents()
    {
        var database = await postgres.Server.CreateDatabaseAsync();
        await using var store = await OpenAsync(database);
        var install = Guid.NewGuid();
        var events = Enumerable.Range(0, 5).Select(i => Event(install, new DateTime(2026, 10, 1 + i, 8, 0, 0, DateTimeKind.Utc))).ToList();
        await store.WriteAsync([.. events, Event(Guid.NewGuid())], [Quarantined(install), Quarantined(Guid.NewGuid())], default);

        var all = await store.ReadInstallAsync("acme", install, 10, default);
        var some = await store.ReadInstallAsync("acme", install, 3, default);

        Assert.NotNull(all);
        Assert.Equal(events.Select(e => e.Id).Reverse(), all.Events.Select(e => e.Id));
        Assert.Equal(install, Assert.Single(all.Quarantine).InstallId);
        Assert.False(all.Truncated);
        Assert.NotNull(some);
        Assert.Equal(events.Select(e => e.Id).Reverse().Take(3), some.Events.Select(e => e.Id));
        Assert.True(some.Truncated);
        Assert.Null(await store.ReadInstallAsync("acme", Guid.NewGuid(), 10, default));
        Assert.Null(await store.ReadInstallAsync("other", install, 10, default));
    }

    [Fact]
    public async Task RetentionDropsWhollyExpiredPartitionsDeletesTheRestAndKeepsTheRollupsExact()
    {
        var database = await postgres.Server.CreateDatabaseAsync();
        var cutoff = new DateTimeOffset(2026, 10, 15, 0, 0, 0, TimeSpan.Zero);
        await using (var store = await OpenAsync(database))
        {
            foreach (var group in PostgresRollupTests.RandomGroups(new Random(5)))
            {
                await store.WriteAsync(group, [], default);
            }

            // Another product's event in September keeps that partition until its own retention.
            await store.WriteAsync([Event(Guid.NewGuid(), new DateTime(2026, 9, 20, 0, 0, 0, DateTimeKind.Utc), "zeta")], [], default);
            await store.WriteAsync([], [Quarantined(null, cutoff.AddDays(-1)), Quarantined(null, cutoff.AddDays(1))], default);
            var old = await ScalarAsync(database, $"SELECT count(*) FROM events WHERE product = 'acme' AND event_time < '{cutoff:O}'");
            var total = await ScalarAsync(database, "SELECT count(*) FROM events");

            var acme = await store.DeleteExpiredAsync("acme", cutoff, cutoff, default);

            Assert.Equal(new RetentionOutcome(old, 1), acme);
            Assert.Equal(total - old, await ScalarAsync(database, "SELECT count(*) FROM events"));
            Assert.Equal(1L, await ScalarAsync(database, "SELECT count(*) FROM events_2026_09"));
            Assert.Equal(new RetentionOutcome(1, 0), await store.DeleteExpiredAsync("zeta", cutoff, cutoff, default));
            Assert.Equal(0L, await ScalarAsync(database, "SELECT count(*) FROM pg_class WHERE relname = 'events_2026_09'"));
            Assert.Equal(1L, await ScalarAsync(database, "SELECT count(*) FROM pg_class WHERE relname = 'events_2026_10'"));
            Assert.Equal(0L, await ScalarAsync(database, $"SELECT count(*) FROM events WHERE event_time < '{cutoff:O}'"));
            Assert.Equal(new RetentionOutcome(0, 0), await store.DeleteExpiredAsync("acme", cutoff, cutoff, default));
        }

        using (var rollups = new PostgresAnalyticsStore(database))
        using (var scan = new PostgresAnalyticsStore(database, rollups: false))
        {
            var (compared, nonEmpty) = await PostgresRollupTests.CompareAsync(rollups, scan);
            Assert.True(nonEmpty > 200, $"only {nonEmpty} of {compared} answers had rows");
        }

        await AssertRollupsEqualABackfillAsync(database);
    }

    /// <summary>Folds what is pending, then checks that the rollups equal what a start on the same
    /// events without them builds.</summary>
    private static async Task AssertRollupsEqualABackfillAsync(string connectionString)
    {
        await using (var store = new PostgresEventStore(connectionString))
        {
            await store.MovePendingAsync(default);
        }

        var kept = await PostgresRollupTests.SnapshotAsync(connectionString);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand("DROP TABLE " + string.Join(", ", PostgresRollups.Tables.Select(t => t.Table)), connection);
            await drop.ExecuteNonQueryAsync();
        }

        await using (var reopened = new PostgresEventStore(connectionString))
        {
            await reopened.InitializeAsync(default);
        }

        Assert.Equal(await PostgresRollupTests.SnapshotAsync(connectionString), kept);
    }

    private static async Task<PostgresEventStore> OpenAsync(string connectionString)
    {
        var store = new PostgresEventStore(connectionString) { MoveInterval = Timeout.InfiniteTimeSpan };
        await store.InitializeAsync(default);
        store.Forgotten.Load(await store.ReadOrCreateTombstoneKeyAsync(default), await store.ReadTombstonesAsync(default));
        return store;
    }

    private static Task<long> ScalarAsync(string connectionString, string sql) => PostgresRollupTests.ScalarAsync(connectionString, sql);

    private static EventRecord Event(Guid install, DateTime? time = null, string product = "acme")
    {
        var at = time ?? DateTime.UtcNow;
        return new EventRecord
        {
            Product = product,
            Id = Guid.NewGuid(),
            Name = "command",
            SchemaVersion = "1-0-0",
            Time = new DateTimeOffset(at),
            ReceivedAt = new DateTimeOffset(at.AddSeconds(1)),
            Context = new Candor.Protocol.EventContext { Product = product, InstallId = install, OsFamily = "linux", ProductVersion = "1.0.0" },
            PropertiesJson = """{"command":"run","duration_ms":12}""",
            Analytics = new AnalyticsFields("run", 12, false, null),
        };
    }

    private static QuarantineRecord Quarantined(Guid? install, DateTimeOffset? receivedAt = null) => new()
    {
        Product = "acme",
        EventId = Guid.NewGuid(),
        InstallId = install,
        ReasonCode = "invalid_property",
        Message = "bad",
        ReceivedAt = receivedAt ?? DateTimeOffset.UtcNow,
        EventJson = "{}",
    };
}
