using Candor.Collector.Analytics;
using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using DuckDB.NET.Data;

namespace Candor.Collector.Tests.Storage.DuckDb;

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

    [Fact]
    public async Task GroupsArrivingDuringACheckpointAreAcknowledgedFromTheJournalThenStoredOnceAfterIt()
    {
        var gate = new TaskCompletionSource();
        var (a1, a2, b1, c1, d1) = (Record("acme"), Record("acme"), Record("acme"), Record("acme"), Record("acme"));
        await using (var store = new DuckDbEventStore(DatabasePath, checkpointWalBytes: 1) { CheckpointGate = gate.Task })
        {
            using var release = Releasing(gate); // disposed before the store: a failed assertion does not leave its applier held
            await store.InitializeAsync(CancellationToken.None);
            var first = await store.WriteAsync([a1, a2], [], CancellationToken.None);
            Assert.Equal([false, false], first);
            // Any WAL passes a 1-byte threshold: the applier starts a checkpoint, which the gate holds.
            await Until(() => !store.RunningCheckpoint.IsCompleted);

            var during = await store.WriteAsync([b1, Record("acme", a1.Id), Record("acme", b1.Id)], [], CancellationToken.None);
            Assert.Equal([false, true, true], during);
            Assert.True(File.Exists(DatabasePath + ".journal"));
            Assert.Empty(Rows($"SELECT event_id FROM events WHERE event_id = '{b1.Id}'", r => r.GetGuid(0)));
            // A duplicate of a journaled event not yet applied is found among the pending ids.
            var next = await store.WriteAsync([Record("acme", b1.Id), c1], [], CancellationToken.None);
            Assert.Equal([true, false], next);

            gate.SetResult();
            await store.WaitForStoredAsync(CancellationToken.None);
            Assert.Single(Rows($"SELECT event_id FROM events WHERE event_id = '{b1.Id}'", r => r.GetGuid(0)));
            var after = await store.WriteAsync([d1, Record("acme", c1.Id)], [], CancellationToken.None);
            Assert.Equal([false, true], after);
            await store.WaitForStoredAsync(CancellationToken.None);
            Assert.Null(store.LastCheckpointError);
            Assert.Null(store.LastApplyError);
            Assert.Equal(5, Rows("SELECT count(*) FROM events", r => r.GetInt64(0)).Single());
        }

        Assert.False(File.Exists(DatabasePath + ".journal"));
        Assert.Equal(
            new[] { a1.Id, a2.Id, b1.Id, c1.Id, d1.Id }.Order(),
            Rows("SELECT event_id FROM events", r => r.GetGuid(0)).Order());
    }

    [Fact]
    public async Task AReadWaitsUntilWhatWasAcknowledgedBeforeItIsStored()
    {
        var gate = new TaskCompletionSource();
        await using var store = new DuckDbEventStore(DatabasePath, checkpointWalBytes: 1) { CheckpointGate = gate.Task };
        using var release = Releasing(gate); // disposed before the store: a failed assertion does not leave its applier held
        await store.InitializeAsync(CancellationToken.None);
        await store.WriteAsync([Record("acme")], [], CancellationToken.None);
        await Until(() => !store.RunningCheckpoint.IsCompleted); // the applier is held
        var held = Record("acme");
        await store.WriteAsync([held], [], CancellationToken.None);
        var read = store.ReadRecentAsync("acme", 10, CancellationToken.None);
        var analytics = new DuckDbAnalyticsStore(DatabasePath, barrier: store);
        var summary = analytics.SummaryAsync(new AnalyticsQuery("acme", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1)), CancellationToken.None);
        await Task.Delay(300);
        Assert.False(read.IsCompleted, "the read waits for the applier");
        Assert.False(summary.IsCompleted, "so does the analytics query");

        gate.SetResult();
        Assert.Contains((await read).Select(e => e.Id), id => id == held.Id);
        Assert.Equal(2, (await summary).Events);
        analytics.Dispose();
    }

    [Fact]
    public async Task ACommitTheApplierCannotMakeIsTriedAgainAndStoresEachAcknowledgedEventOnce()
    {
        var failures = 2;
        var (e1, e2) = (Record("acme"), Record("acme"));
        await using (var store = new DuckDbEventStore(DatabasePath))
        {
            store.BeforeApply = () =>
            {
                if (Interlocked.Decrement(ref failures) >= 0)
                {
                    throw new IOException("disk unplugged");
                }
            };
            await store.InitializeAsync(CancellationToken.None);
            Assert.Equal(new[] { false }, await store.WriteAsync([e1], [], CancellationToken.None));
            await Until(() => store.LastApplyError == "disk unplugged");
            Assert.False(await store.IsReachableAsync(CancellationToken.None), "not ready while the applier fails");
            Assert.Equal(new[] { false, true }, await store.WriteAsync([e2, Record("acme", e1.Id)], [], CancellationToken.None));
            await store.WaitForStoredAsync(CancellationToken.None);
            Assert.True(failures < 0, "the applier tried again");
            Assert.True(await store.IsReachableAsync(CancellationToken.None));
            Assert.Equal(new[] { e1.Id, e2.Id }.Order(), Rows("SELECT event_id FROM events", r => r.GetGuid(0)).Order());
        }

        Assert.Equal(new[] { e1.Id, e2.Id }.Order(), Rows("SELECT event_id FROM events", r => r.GetGuid(0)).Order());
    }

    [Fact]
    public async Task EventsTheApplierCouldNotStoreBeforeShutdownAreStoredAtTheNextOpen()
    {
        var e1 = Record("acme");
        await using (var store = new DuckDbEventStore(DatabasePath) { BeforeApply = () => throw new IOException("disk unplugged") })
        {
            await store.InitializeAsync(CancellationToken.None);
            Assert.Equal(new[] { false }, await store.WriteAsync([e1], [], CancellationToken.None));
        }

        Assert.Empty(Rows("SELECT event_id FROM events", r => r.GetGuid(0)));
        Assert.Equal([Path.GetFileName(DatabasePath) + ".journal"], Journals());
        await using (var reopened = new DuckDbEventStore(DatabasePath))
        {
            await reopened.InitializeAsync(CancellationToken.None);
            Assert.Equal(new[] { true }, await reopened.WriteAsync([Record("acme", e1.Id)], [], CancellationToken.None));
        }

        Assert.Equal([e1.Id], Rows("SELECT event_id FROM events", r => r.GetGuid(0)));
        Assert.Empty(Journals());
    }

    [Fact]
    public async Task TheJournalMovesToANewFileWhenOneIsFullAndDeletesEachOnceApplied()
    {
        var ids = new List<Guid>();
        await using (var store = new DuckDbEventStore(DatabasePath, journalSegmentBytes: 1))
        {
            await store.InitializeAsync(CancellationToken.None);
            for (var i = 0; i < 4; i++)
            {
                var e = Record("acme");
                ids.Add(e.Id);
                await store.WriteAsync([e], [], CancellationToken.None);
            }

            await store.WaitForStoredAsync(CancellationToken.None);
            // Every group filled its file: the earlier ones are applied and deleted, the current one stays open.
            await Until(() => Journals().Length == 1);
            Assert.Equal([Path.GetFileName(DatabasePath) + ".journal.4"], Journals());
            Assert.Equal(4, Rows("SELECT count(*) FROM events", r => r.GetInt64(0)).Single());
        }

        Assert.Empty(Journals());
        Assert.Equal(ids.Order(), Rows("SELECT event_id FROM events", r => r.GetGuid(0)).Order());
    }

    [Fact]
    public async Task JournalFilesLeftByACrashAreAppliedInOrderWhenTheStoreOpens()
    {
        await using (var store = new DuckDbEventStore(DatabasePath))
        {
            await store.InitializeAsync(CancellationToken.None);
        }

        // Numbered files sort as numbers (10 after 9); each holds one install's first event, so the
        // order they are applied in shows in the install numbers.
        var files = new[] { ".journal", ".journal.2", ".journal.10" };
        var installs = files.Select(_ => Guid.NewGuid()).ToArray();
        for (var i = 0; i < files.Length; i++)
        {
            using var journal = IngestJournal.Create(DatabasePath + files[i]);
            journal.Append([For(installs[i])], []);
        }

        using (var stray = File.CreateText(DatabasePath + ".journal.old"))
        {
            stray.Write("not a journal");
        }

        await using (var reopened = new DuckDbEventStore(DatabasePath))
        {
            await reopened.InitializeAsync(CancellationToken.None);
        }

        Assert.Equal([Path.GetFileName(DatabasePath) + ".journal.old"], Journals());
        Assert.Equal(installs, Rows("SELECT install_id FROM install_numbers ORDER BY seq", r => r.GetGuid(0)));
    }

    [Fact]
    public async Task ACheckpointRunsOnOneDuckDbThreadAndGivesTheOthersBackWhenItEnds()
    {
        // A connection in this process shares the store's database, and with it the global setting.
        Directory.CreateDirectory(_directory);
        using var probe = new DuckDBConnection($"Data Source={DatabasePath}");
        probe.Open();
        long Threads(string? set = null)
        {
            using var command = probe.CreateCommand();
            if (set is not null)
            {
                command.CommandText = set;
                command.ExecuteNonQuery();
            }

            command.CommandText = "SELECT current_setting('threads')";
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }

        Threads("SET threads = 3"); // the same test on a machine of any size
        var gate = new TaskCompletionSource();
        await using var store = new DuckDbEventStore(DatabasePath, checkpointWalBytes: 1) { CheckpointGate = gate.Task };
        using var release = Releasing(gate); // disposed before the store: a failed assertion does not leave its applier held
        await store.InitializeAsync(CancellationToken.None);
        await store.WriteAsync([Record("acme")], [], CancellationToken.None); // starts a checkpoint, which the gate holds
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Threads() != 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(1, Threads());
        gate.SetResult();
        await store.RunningCheckpoint;
        Assert.Null(store.LastCheckpointError);
        Assert.Equal(3, Threads());
    }

    [Fact]
    public async Task EventsAcknowledgedFromTheJournalAreStoredOnceTheCheckpointEndsEvenIfNoOtherRequestComes()
    {
        var gate = new TaskCompletionSource();
        await using var store = new DuckDbEventStore(DatabasePath, checkpointWalBytes: 1) { CheckpointGate = gate.Task };
        using var release = Releasing(gate); // disposed before the store: a failed assertion does not leave its applier held
        await store.InitializeAsync(CancellationToken.None);
        var writer = new GroupCommitWriter(store, new CollectorOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger<GroupCommitWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        try
        {
            var first = new WriteRequest([Record("acme")], []);
            Assert.True(writer.TryEnqueue(first));
            await first.Committed;
            await Until(() => !store.RunningCheckpoint.IsCompleted); // held by the gate
            var journaled = Record("acme");
            var during = new WriteRequest([journaled], []);
            Assert.True(writer.TryEnqueue(during));
            var answer = await during.Committed.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal([false], answer);
            Assert.Empty(Rows($"SELECT event_id FROM events WHERE event_id = '{journaled.Id}'", r => r.GetGuid(0)));

            gate.SetResult();
            await Until(() => Rows($"SELECT event_id FROM events WHERE event_id = '{journaled.Id}'", r => r.GetGuid(0)).Count == 1);
            Assert.Equal([journaled.Id], Rows($"SELECT event_id FROM events WHERE event_id = '{journaled.Id}'", r => r.GetGuid(0)));
        }
        finally
        {
            await writer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task AJournalLeftByACrashIsAppliedWhenTheStoreOpensWithoutStoringAnythingTwice()
    {
        var (stored, journaled, later) = (Record("acme"), Record("acme"), Record("acme"));
        journaled.Context.KernelRelease = "6.1.0";
        journaled.Context.CiName = null;
        journaled = new EventRecord
        {
            Product = journaled.Product, Id = journaled.Id, Name = journaled.Name, SchemaVersion = journaled.SchemaVersion,
            Time = journaled.Time, ReceivedAt = journaled.ReceivedAt, Context = journaled.Context, PropertiesJson = journaled.PropertiesJson,
            Country = null, Region = "ENG", IpPseudonym = journaled.IpPseudonym,
            Analytics = new AnalyticsFields("run", 12.5, false, null),
        };
        var rejected = new QuarantineRecord
        {
            Product = "acme", EventId = Guid.CreateVersion7(), ReasonCode = "unknown_schema", Message = "No schema.",
            SchemaRef = null, ReceivedAt = DateTimeOffset.UtcNow, EventJson = "{}",
        };
        await using (var store = new DuckDbEventStore(DatabasePath))
        {
            await store.InitializeAsync(CancellationToken.None);
            await store.WriteAsync([stored], [], CancellationToken.None);
        }

        // As a crash would leave it: two flushed groups (one already applied before the crash), then
        // the torn start of a third that was never acknowledged.
        using (var journal = IngestJournal.Create(DatabasePath + ".journal"))
        {
            journal.Append([stored, journaled], [rejected]);
            journal.Append([later], []);
        }

        await using (var tail = new FileStream(DatabasePath + ".journal", FileMode.Append))
        {
            tail.Write([200, 0, 0, 0, 1, 0, 0, 0, 3]);
        }

        await using (var reopened = new DuckDbEventStore(DatabasePath))
        {
            await reopened.InitializeAsync(CancellationToken.None);
        }

        Assert.False(File.Exists(DatabasePath + ".journal"));
        Assert.Equal(
            new[] { stored.Id, journaled.Id, later.Id }.Order(),
            Rows("SELECT event_id FROM events", r => r.GetGuid(0)).Order());
        Assert.Equal(
            [("6.1.0", null, null, "ENG", "run", 12.5, false, journaled.PropertiesJson, journaled.Time.UtcDateTime.Ticks / 10)],
            Rows($"SELECT kernel_release, ci_name, country, region, subject, duration_ms, failed, properties, event_time FROM events WHERE event_id = '{journaled.Id}'",
                r => (r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetString(3), r.GetString(4),
                      r.GetDouble(5), r.GetBoolean(6), r.GetString(7), r.GetDateTime(8).Ticks / 10)));
        Assert.Equal([(rejected.EventId!.Value, "unknown_schema")], Rows("SELECT event_id, reason_code FROM quarantine", r => (r.GetGuid(0), r.GetString(1))));
    }

    /// <summary>Opens a checkpoint gate when disposed.</summary>
    private static Releaser Releasing(TaskCompletionSource gate) => new(gate);

    private sealed class Releaser(TaskCompletionSource gate) : IDisposable
    {
        public void Dispose() => gate.TrySetResult();
    }

    /// <summary>Waits (up to 10 s) for a condition another thread makes true.</summary>
    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.True(condition());
    }

    private string[] Journals() =>
        [.. Directory.GetFiles(_directory, "candor.duckdb.journal*").Select(f => Path.GetFileName(f)!).Order()];

    private static EventRecord For(Guid? install, DateTimeOffset? time = null)
    {
        var record = Record("acme", time: time);
        record.Context.InstallId = install;
        return record;
    }

    private static EventRecord Anonymous() => For(null);

    private List<T> Rows<T>(string sql, Func<DuckDBDataReader, T> read) => DuckDbRows.Read(DatabasePath, sql, read);
}
