using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.TestSupport;
using DuckDB.NET.Data;
using static Candor.Collector.Tests.Storage.DuckDb.DuckDbDataRightsData;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>A quarantined event's install id through the journal and an older file's upgrade, and a
/// journal a crash left that still holds a forgotten install's events.</summary>
public sealed class DuckDbDataRightsJournalTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly TemporaryDirectory _directory = new("candor-rights-journal");

    private string DatabasePath => _directory.Combine("candor.duckdb");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task AQuarantinedEventKeepsItsInstallIdThroughTheJournalAndTheTable()
    {
        var x = Guid.NewGuid();
        var path = _directory.Combine("read.journal");
        using (var journal = IngestJournal.Create(path))
        {
            journal.Append([], [Quarantined(x), Quarantined(null)]);
        }

        using (var reader = new IngestJournal.Reader(path))
        {
            Assert.Equal([x, null], reader.ReadChunk(int.MaxValue, long.MaxValue).Quarantine.Select(q => q.InstallId));
        }

        // Written through the store, and applied from a journal a crash left.
        await using (var store = await OpenAsync(DatabasePath))
        {
            await store.WriteAsync([], [Quarantined(x, 1)], None);
        }

        using (var journal = IngestJournal.Create(DatabasePath + ".journal"))
        {
            journal.Append([], [Quarantined(x)]);
        }

        await using var reopened = await OpenAsync(DatabasePath);
        Assert.Equal([x, x], (await reopened.ReadQuarantineAsync("acme", 10, None)).Select(q => q.InstallId));
    }

    [Fact]
    public async Task AQuarantinedEventAnOlderCollectorJournaledIsStillAppliedWithoutAnInstallId()
    {
        var q = Quarantined(Guid.NewGuid());
        await (await OpenAsync(DatabasePath)).DisposeAsync();

        using (var file = File.Create(DatabasePath + ".journal"))
        {
            file.Write(JournalRecordFormat.Magic);
            file.Write(RecordWithTheFirstQuarantineTag(q));
        }

        await using var reopened = await OpenAsync(DatabasePath);
        var read = Assert.Single(await reopened.ReadQuarantineAsync("acme", 10, None));
        Assert.Equal((q.EventId, q.ReasonCode, q.Message, q.SchemaRef, q.ReceivedAt, q.EventJson, (Guid?)null),
            (read.EventId, read.ReasonCode, read.Message, read.SchemaRef, read.ReceivedAt, read.EventJson, read.InstallId));
        Assert.Equal(0, reopened.Journal.Skips);
    }

    [Fact]
    public void WhatTheStoreQuarantinesInPlaceOfAnEventKeepsItsInstall()
    {
        var e = Event(Guid.NewGuid(), 1);
        var path = _directory.Combine("bounded.journal");
        using (var journal = IngestJournal.Create(path))
        {
            journal.Append([e], []);
        }

        // Properties past the bound: the reader quarantines the event instead.
        using var reader = new IngestJournal.Reader(path, new JournalBounds(PropertiesChars: 8));
        var stand = Assert.Single(reader.ReadChunk(int.MaxValue, long.MaxValue).Quarantine);
        Assert.Equal(e.Context.InstallId, stand.InstallId);
        Assert.Equal(e.Context.InstallId, StorageRejection.ForQuarantine(stand, "refused", JournalBounds.Default).InstallId);
    }

    [Fact]
    public async Task AnOlderFileGetsTheQuarantineInstallColumnAndTheTombstoneTables()
    {
        var x = Guid.NewGuid();
        await (await OpenAsync(DatabasePath)).DisposeAsync();

        Execute("""
            ALTER TABLE quarantine DROP COLUMN install_id;
            DROP TABLE forgotten_installs;
            DROP TABLE collector_secrets;
            INSERT INTO quarantine VALUES ('acme', uuid(), 'unknown_schema', 'old', NULL, TIMESTAMP '2024-01-01', '{}');
            """);
        await using (var store = await OpenAsync(DatabasePath))
        {
            await store.WriteAsync([], [Quarantined(x)], None);
            Assert.Equal([x, null], (await store.ReadQuarantineAsync("acme", 10, None)).Select(q => q.InstallId));
            Assert.Equal(new ForgetOutcome(ForgetStatus.Forgotten, 0, 1), await store.ForgetAsync("acme", x, store.Forgotten.Tombstone("acme", x), None));
        }

        Assert.Equal("install_id", DuckDbRows.Read(DatabasePath, "SELECT column_name FROM information_schema.columns WHERE table_name = 'quarantine' ORDER BY ordinal_position", r => r.GetString(0)).Last());
        Assert.Equal(["old"], DuckDbRows.Read(DatabasePath, "SELECT message FROM quarantine", r => r.GetString(0)));
    }

    [Fact]
    public async Task AJournalACrashLeftDoesNotBringBackAForgottenInstall()
    {
        var (x, y) = (Guid.NewGuid(), Guid.NewGuid());
        var stored = Event(x, 2);
        await using (var store = await OpenAsync(DatabasePath))
        {
            await store.WriteAsync([stored], [], None);
            await store.ForgetAsync("acme", x, store.Forgotten.Tombstone("acme", x), None);
        }

        // As if the collector had died after the forget with these groups still in its journal.
        var kept = Event(y, 1);
        using (var journal = IngestJournal.Create(DatabasePath + ".journal"))
        {
            journal.Append([stored, Event(x, 1), kept], [Quarantined(x), Quarantined(y)]);
        }

        await using (var reopened = await OpenAsync(DatabasePath))
        {
            Assert.Null(await reopened.ReadInstallAsync("acme", x, 10, None));
        }

        Assert.Equal([kept.Id], DuckDbRows.Read(DatabasePath, "SELECT event_id FROM events", r => r.GetGuid(0)));
        Assert.Equal([y], DuckDbRows.Read(DatabasePath, "SELECT install_id FROM quarantine", r => r.GetGuid(0)));
        Assert.Equal([y], DuckDbRows.Read(DatabasePath, "SELECT install_id FROM install_numbers", r => r.GetGuid(0)));
    }

    /// <summary>One quarantined event in a version 3 record as the collector wrote it before install ids: tag 3, ending with its JSON.</summary>
    private static byte[] RecordWithTheFirstQuarantineTag(QuarantineRecord q)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write(new byte[JournalRecordFormat.RecordHeaderBytes]);
            w.Write(JournalRecordFormat.Version);
            w.Write(JournalRecordFormat.QuarantineTag);
            w.Write(q.Product);
            w.Write(true);
            w.Write(q.EventId!.Value.ToByteArray());
            w.Write(q.ReasonCode);
            w.Write(q.Message);
            w.Write(true);
            w.Write(q.SchemaRef!);
            w.Write(q.ReceivedAt.UtcTicks);
            w.Write(q.EventJson);
        }

        var record = stream.ToArray();
        JournalRecordFormat.WriteRecordHeader(record);
        return record;
    }

    private void Execute(string sql)
    {
        using var connection = new DuckDBConnection($"Data Source={DatabasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
