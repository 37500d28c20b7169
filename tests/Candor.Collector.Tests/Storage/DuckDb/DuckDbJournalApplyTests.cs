using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.TestSupport;
using DuckDB.NET.Data;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>The DuckDB store against whatever its journal holds: large groups, huge strings, damaged
/// records, rows DuckDB refuses — it opens, stores what it can once, and stays ready.</summary>
public sealed class DuckDbJournalApplyTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly TemporaryDirectory _directory = new("candor-duckdb-journal");

    private string DatabasePath => _directory.Combine("candor.duckdb");

    private string JournalPath => DatabasePath + ".journal";

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task GroupsLargerThanFourMegabytesWrittenRepeatedlyAndBetweenSmallOnesAreAllStored()
    {
        var written = new List<Guid>();
        await using (var store = new DuckDbEventStore(DatabasePath))
        {
            await store.InitializeAsync(None);
            for (var round = 0; round < 3; round++)
            {
                // About 6 MB each: once past the journal's kept buffer, every later group was refused.
                var large = Enumerable.Range(0, 1500).Select(_ => Event(properties: Json(4000))).ToList();
                var duplicates = await store.WriteAsync(large, [Quarantined()], None);
                Assert.False(Array.Exists(duplicates, d => d));
                var small = Event();
                Assert.Equal(new[] { false }, await store.WriteAsync([small], [], None));
                written.AddRange(large.Select(e => e.Id).Append(small.Id));
            }

            await store.WaitForStoredAsync(None);
            Assert.True(await store.IsReachableAsync(None));
            Assert.Equal(0, store.Journal.Skips);
            Assert.Equal(1000, (await store.ReadRecentAsync("acme", 1000, None)).Count);
        }

        Assert.Equal(written.Order(), Rows("SELECT event_id FROM events", r => r.GetGuid(0)).Order());
        Assert.Equal(3, Rows("SELECT count(*) FROM quarantine", r => r.GetInt64(0)).Single());
    }

    [Fact]
    public async Task AStoreOpensWithinA48MbLimitOnAJournalOfHugeStringsStoresItAllCutToItsBoundsAndOpensAgain()
    {
        // As an outside probe left one: rejected events quarantined with a 900,000-character name in
        // their schema_ref (and message), and events with huge names, context fields and properties.
        const int Groups = 20;
        var huge = new string('h', 900_000);
        var ids = new List<Guid>();
        using (var journal = IngestJournal.Create(JournalPath))
        {
            for (var g = 0; g < Groups; g++)
            {
                var named = Event(name: huge, osVersion: huge);
                ids.Add(named.Id);
                var events = new List<EventRecord> { named };
                if (g % 2 == 0)
                {
                    events.Add(Event(properties: Json(2_000_000))); // past the properties bound: quarantined
                }

                var quarantine = Enumerable.Range(0, 10)
                    .Select(i => Quarantined(schemaRef: $"acme/{g}-{i}/{huge}", message: i == 0 ? huge : "No schema.", json: i == 5 ? huge : "{}"))
                    .ToList();
                journal.Append(events, quarantine);
            }
        }

        await using (var store = new DuckDbEventStore(DatabasePath, memoryLimit: "48MB"))
        {
            await store.InitializeAsync(None);
            Assert.True(await store.IsReachableAsync(None));
            Assert.False(File.Exists(JournalPath));

            var stored = await store.ReadRecentAsync("acme", 1000, None);
            Assert.Equal(Groups, stored.Count);
            Assert.All(stored, e => Assert.Equal((1024, 1024), (e.Name.Length, e.Context.OsVersion!.Length)));
            var quarantined = await store.ReadQuarantineAsync("acme", 1000, None);
            Assert.Equal((Groups * 10) + (Groups / 2), quarantined.Count);
            Assert.All(quarantined, q => Assert.True(q.Message.Length <= 4096 && q.EventJson.Length <= 4096 && q.SchemaRef!.Length <= 3074));
            Assert.Equal(Groups / 2, quarantined.Count(q => q.ReasonCode == StorageRejection.ReasonCode));
            var summary = await store.SummarizeQuarantineAsync("acme", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), None);
            Assert.Equal(quarantined.Count, summary.Total);
            Assert.Equal(Groups / 2, store.Journal.Rejected);
            Assert.True(store.Journal.StringsCut >= Groups * 14);
            Assert.Equal(0, store.Journal.Skips);
        }

        // A restart: the probe's collector did not start again.
        await using (var reopened = new DuckDbEventStore(DatabasePath, memoryLimit: "48MB"))
        {
            await reopened.InitializeAsync(None);
            Assert.True(await reopened.IsReachableAsync(None));
            Assert.Equal(Groups, (await reopened.ReadRecentAsync("acme", 1000, None)).Count);
        }

        Assert.Equal(ids.Order(), Rows("SELECT event_id FROM events", r => r.GetGuid(0)).Order());
    }

    [Fact]
    public async Task HugeStringsAcknowledgedWhileTheStoreRunsAreStoredCutAndTheStoreStaysReadyAndRestarts()
    {
        var huge = new string('h', 900_000);
        await using (var store = new DuckDbEventStore(DatabasePath, memoryLimit: "48MB"))
        {
            await store.InitializeAsync(None);
            for (var g = 0; g < 10; g++)
            {
                await store.WriteAsync(
                    [Event(name: huge)],
                    [.. Enumerable.Range(0, 10).Select(i => Quarantined(schemaRef: $"acme/{g}-{i}/{huge}", message: i == 0 ? huge : "No schema."))],
                    None);
            }

            await store.WaitForStoredAsync(None);
            Assert.True(await store.IsReachableAsync(None));
            Assert.Null(store.LastApplyError);
            Assert.Equal(100, (await store.ReadQuarantineAsync("acme", 1000, None)).Count);
            Assert.All(await store.ReadRecentAsync("acme", 1000, None), e => Assert.Equal(1024, e.Name.Length));
        }

        await using (var reopened = new DuckDbEventStore(DatabasePath, memoryLimit: "48MB"))
        {
            await reopened.InitializeAsync(None);
            Assert.True(await reopened.IsReachableAsync(None));
            Assert.Equal(10, (await reopened.ReadRecentAsync("acme", 1000, None)).Count);
        }
    }

    [Fact]
    public async Task AnEventDuckDbRefusesEvenAloneIsQuarantinedAsStorageRejectedAndEveryOtherIsStoredOnce()
    {
        // Bounds lifted so that a 40-million-character name reaches DuckDB, which refuses it at a 16 MB limit.
        var bounds = new JournalBounds(FieldChars: int.MaxValue, ExcerptChars: 4096, PropertiesChars: int.MaxValue);
        var (e1, e2, e3) = (Event(), Event(), Event());
        var refused = Event(name: new string('n', 40_000_000));
        var rejected = Quarantined();
        await using (var store = new DuckDbEventStore(DatabasePath, memoryLimit: "16MB", bounds: bounds))
        {
            await store.InitializeAsync(None);
            await store.WriteAsync([e1, refused, e2], [rejected], None);
            await store.WriteAsync([e3], [], None);
            await store.WaitForStoredAsync(None);

            Assert.True(await store.IsReachableAsync(None));
            Assert.Equal(1, store.Journal.Rejected);
            var quarantined = await store.ReadQuarantineAsync("acme", 10, None);
            var stand = Assert.Single(quarantined, q => q.ReasonCode == StorageRejection.ReasonCode);
            Assert.Equal(refused.Id, stand.EventId);
            Assert.StartsWith("The database refused", stand.Message, StringComparison.Ordinal);
            Assert.True(stand.EventJson.Length <= 4096 && stand.SchemaRef!.Length <= 4096);
            Assert.Single(quarantined, q => q.EventId == rejected.EventId);
        }

        Assert.Equal(new[] { e1.Id, e2.Id, e3.Id }.Order(), Rows("SELECT event_id FROM events", r => r.GetGuid(0)).Order());
        Assert.Equal(2, Rows("SELECT count(*) FROM quarantine", r => r.GetInt64(0)).Single());
    }

    [Fact]
    public async Task AJournalLeftByACrashHoldingAnEventDuckDbRefusesDoesNotKeepTheStoreFromOpening()
    {
        var bounds = new JournalBounds(FieldChars: int.MaxValue, ExcerptChars: 4096, PropertiesChars: int.MaxValue);
        var (e1, e2) = (Event(), Event());
        var refused = Event(name: new string('n', 40_000_000));
        using (var journal = IngestJournal.Create(JournalPath))
        {
            journal.Append([e1, refused], [Quarantined()]);
            journal.Append([e2], []);
        }

        await using (var store = new DuckDbEventStore(DatabasePath, memoryLimit: "16MB", bounds: bounds))
        {
            await store.InitializeAsync(None);
            Assert.True(await store.IsReachableAsync(None));
            Assert.Equal(1, store.Journal.Rejected);
            Assert.Equal(
                [(refused.Id, StorageRejection.ReasonCode)],
                (await store.ReadQuarantineAsync("acme", 10, None)).Where(q => q.EventId == refused.Id).Select(q => (q.EventId!.Value, q.ReasonCode)));
        }

        Assert.False(File.Exists(JournalPath));
        Assert.Equal(new[] { e1.Id, e2.Id }.Order(), Rows("SELECT event_id FROM events", r => r.GetGuid(0)).Order());
    }

    [Fact]
    public async Task ADamagedJournalRecordIsSkippedAndReportedAtOpenAndTheRecordsAfterItAreStored()
    {
        var events = Enumerable.Range(0, 3).Select(_ => Event()).ToArray();
        using (var journal = IngestJournal.Create(JournalPath))
        {
            foreach (var e in events)
            {
                journal.Append([e], []);
            }
        }

        // The second record's payload: past the file header, the first record and the second's header.
        var bytes = File.ReadAllBytes(JournalPath);
        var second = JournalRecordFormat.FileHeaderBytes + JournalRecordFormat.RecordHeaderBytes + BitConverter.ToInt32(bytes, JournalRecordFormat.FileHeaderBytes);
        bytes[second + JournalRecordFormat.RecordHeaderBytes + 30] ^= 0x01;
        File.WriteAllBytes(JournalPath, bytes);

        await using (var store = new DuckDbEventStore(DatabasePath))
        {
            await store.InitializeAsync(None);
            Assert.Equal(1, store.Journal.Skips);
            Assert.True(await store.IsReachableAsync(None));
        }

        Assert.False(File.Exists(JournalPath));
        Assert.Equal(new[] { events[0].Id, events[2].Id }.Order(), Rows("SELECT event_id FROM events", r => r.GetGuid(0)).Order());
    }

    [Fact]
    public async Task AJournalWhoseLastRecordACrashToreIsStoredUpToThatRecordAtOpenAndTheTornTailIsReported()
    {
        var events = Enumerable.Range(0, 3).Select(_ => Event()).ToArray();
        using (var journal = IngestJournal.Create(JournalPath))
        {
            foreach (var e in events)
            {
                journal.Append([e], []);
            }
        }

        // The crash came in the middle of the third record's write: its last bytes never reached the disk.
        using (var file = new FileStream(JournalPath, FileMode.Open))
        {
            file.SetLength(file.Length - 10);
        }

        await using (var store = new DuckDbEventStore(DatabasePath))
        {
            await store.InitializeAsync(None);
            Assert.Equal(1, store.Journal.Skips);
            Assert.True(await store.IsReachableAsync(None));
        }

        Assert.False(File.Exists(JournalPath));
        Assert.Equal(new[] { events[0].Id, events[1].Id }.Order(), Rows("SELECT event_id FROM events", r => r.GetGuid(0)).Order());
    }

    private List<T> Rows<T>(string sql, Func<DuckDBDataReader, T> read) => DuckDbRows.Read(DatabasePath, sql, read);

    private static EventRecord Event(string name = "command", string? properties = null, string? osVersion = null)
    {
        var e = EventStoreContract.Record("acme");
        e.Context.OsVersion = osVersion;
        return new EventRecord
        {
            Product = e.Product, Id = e.Id, Name = name, SchemaVersion = e.SchemaVersion, Time = e.Time, ReceivedAt = e.ReceivedAt,
            Context = e.Context, PropertiesJson = properties ?? e.PropertiesJson, Country = e.Country, Region = e.Region, IpPseudonym = e.IpPseudonym,
        };
    }

    private static QuarantineRecord Quarantined(string? schemaRef = "acme/nope/latest", string message = "No schema.", string json = "{}") => new()
    {
        Product = "acme",
        EventId = Guid.CreateVersion7(),
        ReasonCode = "unknown_schema",
        Message = message,
        SchemaRef = schemaRef,
        ReceivedAt = DateTimeOffset.UtcNow,
        EventJson = json,
    };

    private static string Json(int chars) => $$"""{"text":"{{new string('p', chars - 11)}}"}""";
}
