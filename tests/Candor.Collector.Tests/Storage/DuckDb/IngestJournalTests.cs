using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Storage.DuckDb;

public sealed class IngestJournalTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new("candor-journal");

    private string JournalPath => _directory.Combine("candor.duckdb.journal");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void EveryFieldOfEveryEventAndQuarantinedEventReadsBackAsWritten()
    {
        var first = Event();
        var second = new EventRecord
        {
            Product = "acme", Id = Guid.CreateVersion7(), Name = "build", SchemaVersion = "2-0-0",
            Time = DateTimeOffset.UtcNow.AddMinutes(-1), ReceivedAt = DateTimeOffset.UtcNow, Context = first.Context,
            PropertiesJson = null, Country = null, Region = "ENG", IpPseudonym = null,
            Analytics = new AnalyticsFields("run", 12.5, true, "E42"),
        };
        var rejected = Quarantined(schemaRef: null);
        using (var journal = IngestJournal.Create(JournalPath))
        {
            journal.Append([first, second], [rejected]);
            journal.Append([Event()], []);
        }

        var (chunks, reader) = ReadAll();
        using (reader)
        {
            var chunk = Assert.Single(chunks);
            Assert.Empty(reader.Skipped);
            Assert.Equal(2, chunk.Records.Count);
            Assert.Equal(3, chunk.Events.Count);
            AssertSame(first, chunk.Events[0]);
            AssertSame(second, chunk.Events[1]);
            // One context shared within a record is read back once and shared.
            Assert.Same(chunk.Events[0].Context, chunk.Events[1].Context);
            var q = Assert.Single(chunk.Quarantine);
            Assert.Equal(
                (rejected.Product, rejected.EventId, rejected.ReasonCode, rejected.Message, rejected.SchemaRef, rejected.ReceivedAt, rejected.EventJson),
                (q.Product, q.EventId, q.ReasonCode, q.Message, q.SchemaRef, q.ReceivedAt, q.EventJson));
            Assert.Equal(new FileInfo(JournalPath).Length, chunk.Bytes);
        }
    }

    [Fact]
    public void GroupsLargerThanFourMegabytesAppendRepeatedlyAndBetweenSmallOnesAndAllReadBack()
    {
        var written = new List<Guid>();
        using (var journal = IngestJournal.Create(JournalPath))
        {
            for (var round = 0; round < 3; round++)
            {
                // About 6 MB: past the size the journal keeps its buffer at, which once made every later append throw.
                var large = Enumerable.Range(0, 1500).Select(_ => Event(properties: Json(4000))).ToList();
                journal.Append(large, [Quarantined(json: new string('j', 4000))]);
                var small = Event();
                journal.Append([small], []);
                written.AddRange(large.Select(e => e.Id).Append(small.Id));
            }
        }

        var (chunks, reader) = ReadAll();
        using (reader)
        {
            Assert.Empty(reader.Skipped);
            Assert.Equal(written, chunks.SelectMany(c => c.Events).Select(e => e.Id));
            Assert.Equal(3, chunks.Sum(c => c.Quarantine.Count));
            // A large group is cut into records of about a megabyte, so chunks can be bounded by bytes.
            Assert.True(chunks.Sum(c => c.Records.Count) > 12);
        }
    }

    [Fact]
    public void AChunkEndsOnceItHoldsItsBytesWhateverItsEventCount()
    {
        using (var journal = IngestJournal.Create(JournalPath))
        {
            for (var i = 0; i < 6; i++)
            {
                journal.Append([.. Enumerable.Range(0, 300).Select(_ => Event(properties: Json(4000)))], []);
            }
        }

        using var reader = new IngestJournal.Reader(JournalPath);
        var chunk = reader.ReadChunk(maxRows: 5000, maxBytes: 2 << 20);
        Assert.InRange(chunk.Events.Count, 300, 900);
        Assert.InRange(chunk.Bytes, 2 << 20, 4 << 20);
        var rest = reader.ReadChunk(maxRows: 5000, maxBytes: long.MaxValue);
        Assert.Equal(1800, chunk.Events.Count + rest.Events.Count);
    }

    [Fact]
    public void ATruncatedLastRecordIsReportedAndSkippedAndTheRecordsBeforeItAreRead()
    {
        var kept = WriteGroups(3);
        using (var file = new FileStream(JournalPath, FileMode.Open))
        {
            file.SetLength(file.Length - 10);
        }

        var (chunks, reader) = ReadAll();
        using (reader)
        {
            Assert.Equal(kept[..2], chunks.SelectMany(c => c.Events).Select(e => e.Id));
            Assert.Equal("torn_tail", Assert.Single(reader.Skipped).Reason);
            Assert.True(reader.AtEnd);
        }
    }

    [Fact]
    public void ALengthHeaderTornByACrashIsReportedAndSkippedAndTheRecordsBeforeItAreRead()
    {
        var kept = WriteGroups(2);
        var length = new FileInfo(JournalPath).Length;
        using (var file = new FileStream(JournalPath, FileMode.Append))
        {
            file.Write([200, 0, 0, 0, 1]); // the first bytes of a third record's header
        }

        var (chunks, reader) = ReadAll();
        using (reader)
        {
            Assert.Equal(kept, chunks.SelectMany(c => c.Events).Select(e => e.Id));
            var skip = Assert.Single(reader.Skipped);
            Assert.Equal(("torn_tail", length, 5L), (skip.Reason, skip.Offset, skip.Bytes));
        }
    }

    [Fact]
    public void AFlippedByteInTheMiddleRecordSkipsThatRecordAloneAndReportsItsChecksum()
    {
        var ids = WriteGroups(3);
        var offsets = RecordOffsets();
        FlipByte(offsets[1] + JournalRecordFormat.RecordHeaderBytes + 40);

        var (chunks, reader) = ReadAll();
        using (reader)
        {
            Assert.Equal([ids[0], ids[2]], chunks.SelectMany(c => c.Events).Select(e => e.Id));
            var skip = Assert.Single(reader.Skipped);
            Assert.Equal(("checksum", offsets[1], offsets[2] - offsets[1]), (skip.Reason, skip.Offset, skip.Bytes));
        }
    }

    [Fact]
    public void AFlippedByteInARecordLengthSkipsTheRestOfTheFileSinceNoLaterRecordCanBeFound()
    {
        var ids = WriteGroups(3);
        var offsets = RecordOffsets();
        FlipByte(offsets[1] + 1);

        var (chunks, reader) = ReadAll();
        using (reader)
        {
            Assert.Equal([ids[0]], chunks.SelectMany(c => c.Events).Select(e => e.Id));
            Assert.Equal("bad_header", Assert.Single(reader.Skipped).Reason);
            Assert.True(reader.AtEnd);
        }
    }

    [Fact]
    public void AFileOfGarbageYieldsNothingAndIsReportedAsSkipped()
    {
        var garbage = new byte[100_000];
        new Random(7).NextBytes(garbage);
        File.WriteAllBytes(JournalPath, garbage);

        var (chunks, reader) = ReadAll();
        using (reader)
        {
            Assert.Empty(chunks.SelectMany(c => c.Events));
            Assert.Empty(chunks.SelectMany(c => c.Quarantine));
            Assert.NotEmpty(reader.Skipped);
            Assert.Equal(garbage.Length, reader.Skipped.Sum(s => s.Bytes));
        }
    }

    [Fact]
    public void AVersion2JournalFromBeforeChecksumsIsStillRead()
    {
        var e = Event();
        var q = Quarantined();
        using (var file = File.Create(JournalPath))
        using (var w = new BinaryWriter(file))
        {
            var group = Version2Group(e, q);
            w.Write(group.Length);
            w.Write(group);
            w.Write(200); // a torn tail: a length, and nothing after it
        }

        var (chunks, reader) = ReadAll();
        using (reader)
        {
            var read = Assert.Single(chunks.SelectMany(c => c.Events));
            AssertSame(e, read);
            Assert.Equal(q.EventJson, Assert.Single(chunks.SelectMany(c => c.Quarantine)).EventJson);
            Assert.Equal("torn_tail", Assert.Single(reader.Skipped).Reason);
        }
    }

    [Fact]
    public void StringsPastTheirBoundsAreCutAsTheyAreReadAndPropertiesPastTheirsAreQuarantined()
    {
        var huge = new string('n', 900_000);
        var named = Event(name: huge);
        var wide = Event(properties: Json(20_000));
        using (var journal = IngestJournal.Create(JournalPath))
        {
            journal.Append([named, wide], [Quarantined(schemaRef: huge, message: huge, json: huge)]);
        }

        var bounds = new JournalBounds(FieldChars: 100, ExcerptChars: 300, PropertiesChars: 10_000);
        using var reader = new IngestJournal.Reader(JournalPath, bounds);
        var chunk = reader.ReadChunk(maxRows: 100, maxBytes: long.MaxValue);

        var e = Assert.Single(chunk.Events);
        Assert.Equal(huge[..100], e.Name);
        Assert.Equal(named.PropertiesJson, e.PropertiesJson);
        Assert.Equal([("acme", wide.Id)], chunk.Released);
        Assert.Equal(2, chunk.Quarantine.Count);
        var q = chunk.Quarantine.Single(r => r.ReasonCode == "unknown_schema");
        Assert.Equal((302, 300, 300), (q.SchemaRef!.Length, q.Message.Length, q.EventJson.Length));
        var rejected = chunk.Quarantine.Single(r => r.ReasonCode == StorageRejection.ReasonCode);
        Assert.Equal(wide.Id, rejected.EventId);
        Assert.True(rejected.EventJson.Length <= 300);
        Assert.Contains(wide.Id.ToString(), rejected.EventJson, StringComparison.Ordinal);
        Assert.Equal(5, chunk.StringsCut);
    }

    [Fact]
    public void AStringIsNeverCutInsideACharacter()
    {
        // "é" takes two UTF-8 bytes and one character, "😀" four bytes and two characters (a surrogate pair).
        var pairs = string.Concat(Enumerable.Repeat("é😀", 100));
        var shifted = "x" + pairs;
        using (var journal = IngestJournal.Create(JournalPath))
        {
            journal.Append([Event(name: pairs), Event(name: shifted)], []);
        }

        using var reader = new IngestJournal.Reader(JournalPath, new JournalBounds(FieldChars: 50));
        var names = reader.ReadChunk(10, long.MaxValue).Events.Select(e => e.Name).ToList();
        // Character 50 of the first is the first half of a pair: the cut comes before the pair.
        Assert.Equal(pairs[..49], names[0]);
        // The second's bytes to decode end inside a "😀": decoding stops before it, and no U+FFFD appears.
        Assert.Equal(shifted[..50], names[1]);
    }

    [Fact]
    public void AnAppendThatFailsLeavesNothingOfItsGroupAndTheJournalTakesTheNext()
    {
        var good = Event();
        using (var journal = IngestJournal.Create(JournalPath))
        {
            var broken = new QuarantineRecord
            {
                Product = "acme", ReasonCode = null!, Message = "m", ReceivedAt = DateTimeOffset.UtcNow, EventJson = "{}",
            };
            // Past the size the journal keeps its buffer at, and failing after the event is encoded.
            Assert.ThrowsAny<ArgumentException>(() => journal.Append([Event(properties: Json(5 << 20))], [broken]));
            journal.Append([good], []);
            Assert.False(journal.Broken);
        }

        var (chunks, reader) = ReadAll();
        using (reader)
        {
            Assert.Equal([good.Id], chunks.SelectMany(c => c.Events).Select(e => e.Id));
            Assert.Empty(reader.Skipped);
        }
    }

    private (List<IngestJournal.Chunk> Chunks, IngestJournal.Reader Reader) ReadAll()
    {
        var reader = new IngestJournal.Reader(JournalPath);
        var chunks = new List<IngestJournal.Chunk>();
        while (!reader.AtEnd)
        {
            chunks.Add(reader.ReadChunk(maxRows: 5000, maxBytes: 8 << 20));
        }

        return (chunks, reader);
    }

    /// <summary>Appends <paramref name="groups"/> groups of one event each; returns their ids.</summary>
    private Guid[] WriteGroups(int groups)
    {
        var ids = new Guid[groups];
        using var journal = IngestJournal.Create(JournalPath);
        for (var i = 0; i < groups; i++)
        {
            var e = Event();
            ids[i] = e.Id;
            journal.Append([e], []);
        }

        return ids;
    }

    /// <summary>Where each record of the journal starts (walking the headers' lengths).</summary>
    private List<long> RecordOffsets()
    {
        var bytes = File.ReadAllBytes(JournalPath);
        var offsets = new List<long>();
        for (long at = JournalRecordFormat.FileHeaderBytes; at < bytes.Length;)
        {
            offsets.Add(at);
            at += JournalRecordFormat.RecordHeaderBytes + BitConverter.ToInt32(bytes, (int)at);
        }

        offsets.Add(bytes.Length);
        return offsets;
    }

    private void FlipByte(long offset)
    {
        using var file = new FileStream(JournalPath, FileMode.Open);
        file.Position = offset;
        var b = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(b ^ 0x10));
    }

    private static void AssertSame(EventRecord expected, EventRecord actual)
    {
        Assert.Equal(
            (expected.Product, expected.Id, expected.Name, expected.SchemaVersion, expected.Time, expected.ReceivedAt, expected.PropertiesJson),
            (actual.Product, actual.Id, actual.Name, actual.SchemaVersion, actual.Time, actual.ReceivedAt, actual.PropertiesJson));
        Assert.Equal((expected.Country, expected.Region, expected.IpPseudonym, expected.Analytics), (actual.Country, actual.Region, actual.IpPseudonym, actual.Analytics));
        var (c, a) = (expected.Context, actual.Context);
        Assert.Equal(
            (c.Product, c.ProductVersion, c.InitialVersion, c.SdkVersion, c.RuntimeVersion, c.OsFamily, c.OsVersion, c.KernelRelease),
            (a.Product, a.ProductVersion, a.InitialVersion, a.SdkVersion, a.RuntimeVersion, a.OsFamily, a.OsVersion, a.KernelRelease));
        Assert.Equal(
            (c.Architecture, c.Ci, c.CiName, c.SessionId, c.InstallId, c.ProjectId, c.UserId),
            (a.Architecture, a.Ci, a.CiName, a.SessionId, a.InstallId, a.ProjectId, a.UserId));
    }

    private static EventRecord Event(string name = "command", string? properties = null)
    {
        var e = EventStoreContract.Record("acme");
        e.Context.SdkVersion = "0.3.1";
        e.Context.KernelRelease = "6.1.0";
        e.Context.CiName = "github";
        e.Context.UserId = "u-1";
        return new EventRecord
        {
            Product = e.Product, Id = e.Id, Name = name, SchemaVersion = e.SchemaVersion, Time = e.Time, ReceivedAt = e.ReceivedAt,
            Context = e.Context, PropertiesJson = properties ?? e.PropertiesJson, Country = e.Country, Region = e.Region, IpPseudonym = e.IpPseudonym,
            Analytics = new AnalyticsFields("run", null, false, null),
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

    /// <summary>A group as version 2 wrote it: its contexts once, then events naming theirs, then quarantined events.</summary>
    private static byte[] Version2Group(EventRecord e, QuarantineRecord q)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            void Text(string? value)
            {
                w.Write(value is not null);
                if (value is not null)
                {
                    w.Write(value);
                }
            }

            var c = e.Context;
            w.Write(2);
            w.Write(1);
            w.Write(c.Product);
            foreach (var value in new[] { c.ProductVersion, c.InitialVersion, c.SdkVersion, c.RuntimeVersion, c.OsFamily, c.OsVersion, c.KernelRelease, c.Architecture })
            {
                Text(value);
            }

            w.Write(c.Ci);
            Text(c.CiName);
            w.Write(c.SessionId.ToByteArray());
            w.Write(c.InstallId.HasValue);
            w.Write(c.InstallId!.Value.ToByteArray());
            Text(c.ProjectId);
            Text(c.UserId);

            w.Write(1);
            w.Write(0);
            w.Write(e.Product);
            w.Write(e.Id.ToByteArray());
            w.Write(e.Name);
            w.Write(e.SchemaVersion);
            w.Write(e.Time.UtcTicks);
            w.Write(e.ReceivedAt.UtcTicks);
            Text(e.PropertiesJson);
            Text(e.Country);
            Text(e.Region);
            Text(e.IpPseudonym);
            Text(e.Analytics.Subject);
            w.Write(e.Analytics.DurationMs.HasValue);
            w.Write(e.Analytics.DurationMs ?? 0);
            w.Write(e.Analytics.Failed.HasValue ? (byte)(e.Analytics.Failed.Value ? 1 : 0) : (byte)2);
            Text(e.Analytics.ErrorCode);

            w.Write(1);
            w.Write(q.Product);
            w.Write(true);
            w.Write(q.EventId!.Value.ToByteArray());
            w.Write(q.ReasonCode);
            w.Write(q.Message);
            Text(q.SchemaRef);
            w.Write(q.ReceivedAt.UtcTicks);
            w.Write(q.EventJson);
        }

        return stream.ToArray();
    }
}
