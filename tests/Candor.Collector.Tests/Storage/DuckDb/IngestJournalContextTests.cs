using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>The journal carries the context fields added after its format's version 3, and still reads
/// the records an older collector wrote without them.</summary>
public sealed class IngestJournalContextTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new("candor-journal-context");

    private string JournalPath => _directory.Combine("candor.duckdb.journal");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void WhereTheProcessRunsReadsBackAsWritten()
    {
        var located = EventStoreContract.Record("acme");
        located.Context.InstallIdPerProcess = true;
        (located.Context.Cloud, located.Context.CloudPlatform, located.Context.CloudRegion, located.Context.Container) =
            ("gcp", "cloud_run", "europe-west1", "kubernetes");
        var plain = EventStoreContract.Record("acme");
        using (var journal = IngestJournal.Create(JournalPath))
        {
            journal.Append([located, plain], []);
        }

        using var reader = new IngestJournal.Reader(JournalPath);
        var chunk = reader.ReadChunk(int.MaxValue, long.MaxValue);

        Assert.Empty(reader.Skipped);
        var (c, p) = (chunk.Events[0].Context, chunk.Events[1].Context);
        Assert.Equal((true, "gcp", "cloud_run", "europe-west1", "kubernetes"), (c.InstallIdPerProcess, c.Cloud, c.CloudPlatform, c.CloudRegion, c.Container));
        Assert.Equal((false, null, null, null, null), (p.InstallIdPerProcess, p.Cloud, p.CloudPlatform, p.CloudRegion, p.Container));
        Assert.Equal(located.Context.InstallId, c.InstallId);
    }

    [Fact]
    public void AVersion3RecordWrittenBeforeTheseFieldsIsStillRead()
    {
        var e = EventStoreContract.Record("acme");
        using (var file = File.Create(JournalPath))
        {
            file.Write(JournalRecordFormat.Magic);
            file.Write(RecordWithTheFirstContextTag(e));
        }

        using var reader = new IngestJournal.Reader(JournalPath);
        var read = Assert.Single(reader.ReadChunk(int.MaxValue, long.MaxValue).Events);

        Assert.Empty(reader.Skipped);
        Assert.Equal((e.Id, e.Context.InstallId, e.Context.ProductVersion, e.PropertiesJson), (read.Id, read.Context.InstallId, read.Context.ProductVersion, read.PropertiesJson));
        Assert.Equal((false, null, null), (read.Context.InstallIdPerProcess, read.Context.Cloud, read.Context.Container));
    }

    /// <summary>One event in a version 3 record as the collector wrote it before the extended context:
    /// its context under tag 1, ending with the user id.</summary>
    private static byte[] RecordWithTheFirstContextTag(EventRecord e)
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

            w.Write(new byte[JournalRecordFormat.RecordHeaderBytes]);
            w.Write(JournalRecordFormat.Version);
            var c = e.Context;
            w.Write(JournalRecordFormat.ContextTag);
            w.Write(c.Product);
            foreach (var value in new[] { c.ProductVersion, c.InitialVersion, c.SdkVersion, c.RuntimeVersion, c.OsFamily, c.OsVersion, c.KernelRelease, c.Architecture })
            {
                Text(value);
            }

            w.Write(c.Ci);
            Text(c.CiName);
            w.Write(c.SessionId.ToByteArray());
            w.Write(true);
            w.Write(c.InstallId!.Value.ToByteArray());
            Text(c.ProjectId);
            Text(c.UserId);

            w.Write(JournalRecordFormat.EventTag);
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
        }

        var record = stream.ToArray();
        JournalRecordFormat.WriteRecordHeader(record);
        return record;
    }
}
