using Candor.Protocol;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// The DuckDB store's write-ahead journal: every accepted group is appended to it and flushed to
/// disk before the group is acknowledged; the store's applier thread then reads the groups back
/// and commits them to the database behind the answers (a DuckDB commit, and above all a
/// checkpoint, which blocks every write for one to three seconds, no longer holds up a request).
/// A file left by a crash is applied when the store next opens (dedup makes a group applied twice
/// harmless). The journal is kept in segments: the store starts a new file once one passes a size,
/// and deletes each once it is applied.
/// </summary>
/// <remarks>Format: version 3 (<see cref="JournalRecordFormat"/>) — a file header, then checksummed
/// records; a large group spans several records. Files of versions 1 and 2 (no header: per group, a
/// 4-byte length, then the group in <see cref="BinaryWriter"/> encoding; version 2 writes each distinct
/// event context once, version 1 with every event) are still read. A group whose bytes are not all
/// there was never acknowledged (the flush comes before the answer).</remarks>
internal sealed partial class IngestJournal : IDisposable
{
    /// <summary>A buffer grown past this by one large group is let go after it, not kept for the collector's life.</summary>
    private const int KeptBufferBytes = 4 << 20;

    private readonly FileStream _file;
    private readonly MemoryStream _buffer = new();
    private readonly Dictionary<EventContext, int> _contexts = new(ReferenceEqualityComparer.Instance);

    private IngestJournal(FileStream file) => _file = file;

    public string Path => _file.Name;

    /// <summary>The bytes written and flushed so far: everything before this offset is durable.</summary>
    public long Length => _file.Position;

    /// <summary>Starts an empty journal at <paramref name="path"/>, replacing any file there.</summary>
    public static IngestJournal Create(string path)
    {
        var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        try
        {
            file.Write(JournalRecordFormat.Magic);
            file.Flush(flushToDisk: true);
            return new IngestJournal(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Whether a failed write could not be cut off: the store then refuses groups.</summary>
    public bool Broken { get; private set; }

    /// <summary>Appends a group and flushes it to disk; returns once it is durable. When it throws, the
    /// journal holds none of the group and takes the next one as usual (unless <see cref="Broken"/>).</summary>
    public void Append(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine)
    {
        if (Broken)
        {
            throw new IOException("The ingest journal could not be repaired after a failed write.");
        }

        try
        {
            Encode(events, quarantine);
            Write();
        }
        finally
        {
            _contexts.Clear();
            if (_buffer.Capacity > KeptBufferBytes)
            {
                // Emptied first: a capacity below the length throws, and left the buffer large and
                // every later append failing after its write.
                _buffer.SetLength(0);
                _buffer.Capacity = 0;
            }
        }
    }

    /// <summary>Encodes the group into <see cref="_buffer"/> as records of about <see cref="JournalRecordFormat.RecordTargetBytes"/>.</summary>
    private void Encode(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine)
    {
        _buffer.SetLength(0);
        using var writer = new BinaryWriter(_buffer, System.Text.Encoding.UTF8, leaveOpen: true);
        var record = StartRecord(writer);
        foreach (var e in events)
        {
            if (_buffer.Length - record > JournalRecordFormat.RecordTargetBytes)
            {
                EndRecord(writer, record);
                record = StartRecord(writer);
            }

            if (!_contexts.TryGetValue(e.Context, out var context))
            {
                context = _contexts.Count;
                _contexts.Add(e.Context, context);
                writer.Write(JournalRecordFormat.ExtendedContextTag);
                WriteContext(writer, e.Context);
            }

            writer.Write(JournalRecordFormat.EventTag);
            writer.Write(context);
            WriteEvent(writer, e);
        }

        foreach (var q in quarantine)
        {
            if (_buffer.Length - record > JournalRecordFormat.RecordTargetBytes)
            {
                EndRecord(writer, record);
                record = StartRecord(writer);
            }

            writer.Write(JournalRecordFormat.InstalledQuarantineTag);
            writer.Write(q.Product);
            WriteGuid(writer, q.EventId);
            writer.Write(q.ReasonCode);
            writer.Write(q.Message);
            WriteString(writer, q.SchemaRef);
            writer.Write(q.ReceivedAt.UtcTicks);
            writer.Write(q.EventJson);
            WriteGuid(writer, q.InstallId);
        }

        EndRecord(writer, record);
    }

    /// <summary>Begins a record: room for its header, then the version. Context numbers start again.</summary>
    private long StartRecord(BinaryWriter writer)
    {
        writer.Flush();
        var start = _buffer.Length;
        writer.Write(new byte[JournalRecordFormat.RecordHeaderBytes]);
        writer.Write(JournalRecordFormat.Version);
        _contexts.Clear();
        return start;
    }

    private void EndRecord(BinaryWriter writer, long start)
    {
        writer.Flush();
        JournalRecordFormat.WriteRecordHeader(_buffer.GetBuffer().AsSpan((int)start, (int)(_buffer.Length - start)));
    }

    private void Write()
    {
        var start = _file.Position;
        try
        {
            _file.Write(_buffer.GetBuffer(), 0, (int)_buffer.Length);
            _file.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            // A group written in part would hide every later one from the reader: cut it off.
            try
            {
                _file.SetLength(start);
                _file.Position = start;
            }
            catch (IOException)
            {
                Broken = true;
            }

            throw;
        }
    }

    public void Dispose()
    {
        _file.Dispose();
        _buffer.Dispose();
    }

    private static void WriteEvent(BinaryWriter w, EventRecord e)
    {
        w.Write(e.Product);
        w.Write(e.Id.ToByteArray());
        w.Write(e.Name);
        w.Write(e.SchemaVersion);
        w.Write(e.Time.UtcTicks);
        w.Write(e.ReceivedAt.UtcTicks);
        WriteString(w, e.PropertiesJson);
        WriteString(w, e.Country);
        WriteString(w, e.Region);
        WriteString(w, e.IpPseudonym);
        var a = e.Analytics;
        WriteString(w, a.Subject);
        w.Write(a.DurationMs.HasValue);
        w.Write(a.DurationMs ?? 0);
        w.Write(a.Failed.HasValue ? (byte)(a.Failed.Value ? 1 : 0) : (byte)2);
        WriteString(w, a.ErrorCode);
    }

    private static void WriteContext(BinaryWriter w, EventContext c)
    {
        w.Write(c.Product);
        WriteString(w, c.ProductVersion);
        WriteString(w, c.InitialVersion);
        WriteString(w, c.SdkVersion);
        WriteString(w, c.RuntimeVersion);
        WriteString(w, c.OsFamily);
        WriteString(w, c.OsVersion);
        WriteString(w, c.KernelRelease);
        WriteString(w, c.Architecture);
        w.Write(c.Ci);
        WriteString(w, c.CiName);
        w.Write(c.SessionId.ToByteArray());
        WriteGuid(w, c.InstallId);
        WriteString(w, c.ProjectId);
        WriteString(w, c.UserId);
        // The fields of an extended context (JournalRecordFormat.ExtendedContextTag).
        w.Write(c.InstallIdPerProcess);
        WriteString(w, c.Cloud);
        WriteString(w, c.CloudPlatform);
        WriteString(w, c.CloudRegion);
        WriteString(w, c.Container);
    }

    private static void WriteString(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null)
        {
            w.Write(value);
        }
    }

    private static void WriteGuid(BinaryWriter w, Guid? value)
    {
        w.Write(value.HasValue);
        if (value is { } guid)
        {
            w.Write(guid.ToByteArray());
        }
    }
}

/// <summary>Bytes of a journal file that could not be read and were skipped.</summary>
/// <param name="Path">The journal file.</param>
/// <param name="Offset">Where the skipped bytes start.</param>
/// <param name="Bytes">How many.</param>
/// <param name="Reason"><c>torn_tail</c> (a group cut short by a crash, never acknowledged),
/// <c>checksum</c> (a record whose bytes changed), <c>bad_header</c> (a record header whose bytes
/// changed: the rest of the file), or <c>unreadable</c> (a record that does not parse).</param>
internal sealed record JournalSkip(string Path, long Offset, long Bytes, string Reason);
