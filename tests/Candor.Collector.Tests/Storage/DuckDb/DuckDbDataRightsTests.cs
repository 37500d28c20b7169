using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.TestSupport;
using DuckDB.NET.Data;
using static Candor.Collector.Tests.Storage.DuckDb.DuckDbDataRightsData;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>Forget and access on the DuckDB store: what is deleted, what is kept, and what comes after.</summary>
public sealed class DuckDbDataRightsTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly TemporaryDirectory _directory = new("candor-rights");

    private string DatabasePath => _directory.Combine("candor.duckdb");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task ForgettingAnInstallDeletesItsEventsQuarantineAndNumberAndEveryOtherAnswerIsAsIfItHadNeverSentAnything()
    {
        var (x, y, z) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var others = new List<EventRecord>();
        for (var n = 0; n < 12; n++)
        {
            others.Add(Event(n % 2 == 0 ? y : z, daysAgo: n * 3, n));
        }

        others.Add(Event(null, daysAgo: 2, 1));
        var forgotten = Enumerable.Range(0, 7).Select(n => Event(x, daysAgo: (n * 5) + 1, n + 3)).ToList();
        var elsewhere = Event(x, daysAgo: 1, product: "globex"); // the same id in another product is another install
        ForgetOutcome outcome;
        string answers;
        await using (var store = await OpenAsync(DatabasePath))
        {
            await store.WriteAsync([.. forgotten.Take(3), .. others.Take(6)], [Quarantined(x), Quarantined(y)], None);
            await store.WriteAsync([.. others.Skip(6), .. forgotten.Skip(3), elsewhere], [Quarantined(x, 1), Quarantined(null), Quarantined(x, product: "globex")], None);
            outcome = await store.ForgetAsync("acme", x, store.Forgotten.Tombstone("acme", x), None);
            using var analytics = new DuckDbAnalyticsStore(DatabasePath, barrier: store);
            answers = await AnswersAsync(analytics);
            Assert.Null(await store.ReadInstallAsync("acme", x, 100, None));
            Assert.NotNull(await store.ReadInstallAsync("globex", x, 100, None));
            Assert.True(store.Forgotten.IsForgotten("acme", x));
            Assert.False(store.Forgotten.IsForgotten("globex", x));
        }

        Assert.Equal(new ForgetOutcome(ForgetStatus.Forgotten, 7, 2), outcome);
        Assert.Empty(Rows("SELECT 1 FROM events WHERE product = 'acme' AND install_id = '" + x + "'", r => r.GetInt32(0)));
        Assert.Equal(others.Count, Rows("SELECT count(*) FROM events WHERE product = 'acme'", r => r.GetInt64(0)).Single());
        Assert.Equivalent(new (Guid?, string)[] { (y, "acme"), (null, "acme"), (x, "globex") }, Rows(
            "SELECT install_id, product FROM quarantine", r => (r.IsDBNull(0) ? (Guid?)null : r.GetGuid(0), r.GetString(1))));
        Assert.Equal([("acme", y), ("acme", z), ("globex", x)], Rows(
            "SELECT product, install_id FROM install_numbers ORDER BY product, install_id = '" + z + "'", r => (r.GetString(0), r.GetGuid(1))));

        // The same answers as a file that never held install x.
        var without = _directory.Combine("without.duckdb");
        await using (var store = await OpenAsync(without))
        {
            await store.WriteAsync(others, [], None);
        }

        using var recomputed = new DuckDbAnalyticsStore(without);
        Assert.Equal(await AnswersAsync(recomputed), answers);
    }

    [Fact]
    public async Task AForgetWhileTheJournalStillHoldsTheInstallsEventsLeavesNothingOfItEvenAsItKeepsSending()
    {
        var (x, y) = (Guid.NewGuid(), Guid.NewGuid());
        using var held = new ManualResetEventSlim(false);
        await using var store = new DuckDbEventStore(DatabasePath) { BeforeApply = () => held.Wait() };
        await store.InitializeAsync(None);
        var first = Enumerable.Range(0, 5).Select(n => Event(x, 1, n)).ToList();
        Assert.Equal(new bool[6], await store.WriteAsync([.. first, Event(y, 1)], [Quarantined(x)], None));
        // Acknowledged, and held in the journal: the applier waits before its first commit.
        Assert.Empty(Rows("SELECT 1 FROM events", r => r.GetInt32(0)));

        var forget = store.ForgetAsync("acme", x, store.Forgotten.Tombstone("acme", x), None);
        await Task.Delay(200);
        Assert.False(forget.IsCompleted, "forget waits for what the journal holds");
        held.Set();

        // The install keeps sending while the forget runs: each group lands before the tombstone (and is
        // deleted with the rest) or after it (and is dropped).
        var later = 0;
        while (!forget.IsCompleted)
        {
            await store.WriteAsync([Event(x, 0, later++), Event(y, 0, later)], [Quarantined(x)], None);
        }

        var outcome = await forget;
        await store.WriteAsync([Event(x, 0)], [Quarantined(x)], None);
        await store.WaitForStoredAsync(None);

        Assert.Equal(ForgetStatus.Forgotten, outcome.Status);
        Assert.InRange(outcome.Events, first.Count, first.Count + later);
        Assert.Empty(Rows($"SELECT 1 FROM events WHERE install_id = '{x}'", r => r.GetInt32(0)));
        Assert.Empty(Rows($"SELECT 1 FROM quarantine WHERE install_id = '{x}'", r => r.GetInt32(0)));
        Assert.Empty(Rows($"SELECT 1 FROM install_numbers WHERE install_id = '{x}'", r => r.GetInt32(0)));
        Assert.Equal(1 + later, Rows($"SELECT count(*) FROM events WHERE install_id = '{y}'", r => r.GetInt64(0)).Single());
    }

    [Fact]
    public async Task EventsOfAForgottenInstallSentAfterwardsAreReportedAsNotStoredAndNeverReachTheJournal()
    {
        var (x, y) = (Guid.NewGuid(), Guid.NewGuid());
        await using var store = await OpenAsync(DatabasePath);
        await store.WriteAsync([Event(x, 1)], [], None);
        await store.ForgetAsync("acme", x, store.Forgotten.Tombstone("acme", x), None);
        await store.WaitForStoredAsync(None);
        var journal = new FileInfo(DatabasePath + ".journal").Length;

        Assert.Equal(new[] { true, true }, await store.WriteAsync([Event(x, 0), Event(x, 0, 1)], [Quarantined(x)], None));
        Assert.Equal(journal, new FileInfo(DatabasePath + ".journal").Length);
        var kept = Event(y, 0);
        Assert.Equal(new[] { true, false }, await store.WriteAsync([Event(x, 0), kept], [Quarantined(x), Quarantined(y)], None));
        await store.WaitForStoredAsync(None);

        Assert.Equal([kept.Id], Rows("SELECT event_id FROM events", r => r.GetGuid(0)));
        Assert.Equal([y], Rows("SELECT install_id FROM quarantine", r => r.GetGuid(0)));
        Assert.Null(await store.ReadInstallAsync("acme", x, 10, None));
    }

    [Fact]
    public async Task AnInstallNothingIsHeldForIsUnknownAndNothingIsWritten()
    {
        var x = Guid.NewGuid();
        await using var store = await OpenAsync(DatabasePath);
        await store.WriteAsync([Event(x, 1, product: "globex")], [Quarantined(x, product: "globex")], None);

        Assert.Equal(new ForgetOutcome(ForgetStatus.Unknown, 0, 0), await store.ForgetAsync("acme", x, store.Forgotten.Tombstone("acme", x), None));

        Assert.Equal(0, store.Forgotten.Count);
        Assert.Empty(await store.ReadTombstonesAsync(None));
        Assert.Null(await store.ReadInstallAsync("acme", x, 10, None));
        Assert.Equal(new[] { false }, await store.WriteAsync([Event(x, 0)], [], None));
        Assert.NotNull(await store.ReadInstallAsync("acme", x, 10, None));
    }

    [Fact]
    public async Task ForgettingTwiceIsAlreadyForgottenAndStillDeletesWhatTurnedUpSince()
    {
        var x = Guid.NewGuid();
        byte[] tombstone;
        await using (var store = await OpenAsync(DatabasePath))
        {
            tombstone = store.Forgotten.Tombstone("acme", x);
            await store.WriteAsync([Event(x, 1)], [], None);
            Assert.Equal(new ForgetOutcome(ForgetStatus.Forgotten, 1, 0), await store.ForgetAsync("acme", x, tombstone, None));
            Assert.Equal(new ForgetOutcome(ForgetStatus.AlreadyForgotten, 0, 0), await store.ForgetAsync("acme", x, tombstone, None));
        }

        // A row the store did not write (restored from a backup, say): the next forget takes it too.
        Execute($$"""
            INSERT INTO events (product, event_id, name, event_time, received_at, install_id) VALUES ('acme', uuid(), 'command', now(), now(), '{{x}}');
            INSERT INTO quarantine (product, reason_code, message, received_at, event_json, install_id) VALUES ('acme', 'r', 'm', now(), '{}', '{{x}}');
            """);
        await using (var reopened = await OpenAsync(DatabasePath))
        {
            Assert.Equal(new ForgetOutcome(ForgetStatus.AlreadyForgotten, 1, 1), await reopened.ForgetAsync("acme", x, tombstone, None));
            Assert.Single(await reopened.ReadTombstonesAsync(None));
        }
    }

    [Fact]
    public async Task TheTombstonesAndTheirKeySurviveReopeningTheFile()
    {
        var x = Guid.NewGuid();
        byte[] key;
        await using (var store = await OpenAsync(DatabasePath))
        {
            key = await store.ReadOrCreateTombstoneKeyAsync(None);
            Assert.Equal(32, key.Length);
            Assert.Equal(key, await store.ReadOrCreateTombstoneKeyAsync(None));
            await store.WriteAsync([Event(x, 1)], [], None);
            await store.ForgetAsync("acme", x, store.Forgotten.Tombstone("acme", x), None);
        }

        await using var reopened = await OpenAsync(DatabasePath);
        Assert.Equal(key, await reopened.ReadOrCreateTombstoneKeyAsync(None));
        var tombstone = Assert.Single(await reopened.ReadTombstonesAsync(None));
        Assert.Equal(reopened.Forgotten.Tombstone("acme", x), tombstone);
        Assert.True(reopened.Forgotten.IsForgotten("acme", x), "the store loads its tombstones when it opens");
        Assert.Equal(new[] { true }, await reopened.WriteAsync([Event(x, 0)], [], None));
    }

    [Fact]
    public async Task ReadingAnInstallGivesItsNewestEventsAndQuarantinedEventsUpToTheLimit()
    {
        var (x, y) = (Guid.NewGuid(), Guid.NewGuid());
        var events = Enumerable.Range(0, 5).Select(n => Event(x, 5 - n, n)).ToList();
        await using var store = await OpenAsync(DatabasePath);
        await store.WriteAsync([.. events, Event(y, 1)], [Quarantined(x, 2), Quarantined(x, 1), Quarantined(y)], None);

        var all = await store.ReadInstallAsync("acme", x, 10, None);
        var some = await store.ReadInstallAsync("acme", x, 3, None);
        var exact = await store.ReadInstallAsync("acme", x, 5, None);

        Assert.NotNull(all);
        Assert.False(all.Truncated);
        Assert.Equal(events.Select(e => e.Id).Reverse(), all.Events.Select(e => e.Id));
        Assert.All(all.Events, e => Assert.Equal(x, e.Context.InstallId));
        Assert.Equal([Today.AddDays(-1).AddHours(1), Today.AddDays(-2).AddHours(1)], all.Quarantine.Select(q => q.ReceivedAt));
        Assert.All(all.Quarantine, q => Assert.Equal(x, q.InstallId));
        Assert.NotNull(some);
        Assert.True(some.Truncated);
        Assert.Equal(events.Select(e => e.Id).Reverse().Take(3), some.Events.Select(e => e.Id));
        Assert.Equal(2, some.Quarantine.Count);
        Assert.NotNull(exact);
        Assert.False(exact.Truncated);
        Assert.Null(await store.ReadInstallAsync("acme", Guid.NewGuid(), 10, None));
        Assert.Null(await store.ReadInstallAsync("globex", x, 10, None));
    }

    private List<T> Rows<T>(string sql, Func<DuckDBDataReader, T> read) => DuckDbRows.Read(DatabasePath, sql, read);

    private void Execute(string sql)
    {
        using var connection = new DuckDBConnection($"Data Source={DatabasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
