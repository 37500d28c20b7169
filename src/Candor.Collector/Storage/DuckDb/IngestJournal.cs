using Candor.Collector.Analytics;
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
/// <remarks>Format: per group, a 4-byte length, then the group (<see cref="BinaryWriter"/> encoding):
/// version 2 writes each distinct event context of the group once and refers to it from its events
/// (version 1, which wrote it with every event, is still read). A group whose bytes are not all
/// there was never acknowledged (the flush comes before the answer), so reading stops there.</remarks>
internal sealed class IngestJournal : IDisposable
{
    private const int Version = 2;

    private readonly FileStream _file;
    private readonly MemoryStream _buffer = new();
    private readonly Dictionary<EventContext, int> _contexts = new(ReferenceEqualityComparer.Instance);

    private IngestJournal(FileStream file) => _file = file;

    public string Path => _file.Name;

    /// <summary>The bytes written and flushed so far: everything before this offset is durable.</summary>
    public long Length => _file.Position;

    /// <summary>Starts an empty journal at <paramref name="path"/>, replacing any file there.</summary>
    public static IngestJournal Create(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None));

    /// <summary>Appends a group and flushes it to disk; returns once it is durable.</summary>
    public void Append(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine)
    {
        _buffer.SetLength(4);
        _buffer.Position = 4;
        using (var writer = new BinaryWriter(_buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version);
            _contexts.Clear();
            foreach (var e in events)
            {
                _contexts.TryAdd(e.Context, _contexts.Count);
            }

            writer.Write(_contexts.Count);
            foreach (var context in _contexts.Keys)
            {
                WriteContext(writer, context);
            }

            writer.Write(events.Count);
            foreach (var e in events)
            {
                writer.Write(_contexts[e.Context]);
                WriteEvent(writer, e);
            }

            writer.Write(quarantine.Count);
            foreach (var q in quarantine)
            {
                writer.Write(q.Product);
                WriteGuid(writer, q.EventId);
                writer.Write(q.ReasonCode);
                writer.Write(q.Message);
                WriteString(writer, q.SchemaRef);
                writer.Write(q.ReceivedAt.UtcTicks);
                writer.Write(q.EventJson);
            }
        }

        _contexts.Clear();
        if (Broken)
        {
            throw new IOException("The ingest journal could not be repaired after a failed write.");
        }

        var bytes = _buffer.GetBuffer();
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 4), (int)_buffer.Length - 4);
        var start = _file.Position;
        try
        {
            _file.Write(bytes, 0, (int)_buffer.Length);
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

        if (_buffer.Capacity > 4 << 20)
        {
            _buffer.Capacity = 0; // one huge group does not keep its buffer for the collector's life
        }
    }

    /// <summary>Whether a failed write could not be cut off: the store then refuses groups.</summary>
    public bool Broken { get; private set; }

    /// <summary>A journal's groups, read back in the order written (complete ones only).</summary>
    internal sealed class Reader(string path) : IDisposable
    {
        private readonly FileStream _file = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        // Unbuffered: a buffer could hold bytes past the flushed length that a failed write then rewrites.
        private byte[] _record = new byte[64 * 1024];

        /// <summary>Whether every complete group has been read (when reading to the file's end).</summary>
        public bool AtEnd { get; private set; }

        /// <summary>The offset of the next group.</summary>
        public long Position => _file.Position;

        /// <summary>Reads whole groups until at least <paramref name="events"/> events, the file's end or
        /// <paramref name="limit"/> (a length known to hold complete groups: the writer's flushed length).</summary>
        public Chunk ReadChunk(int events, long limit = long.MaxValue)
        {
            var chunk = new Chunk();
            while (!AtEnd && chunk.Events.Count < events && _file.Position < limit)
            {
                if (TryReadGroup(chunk.Events, chunk.Quarantine, limit))
                {
                    chunk.Groups++;
                }
                else
                {
                    AtEnd = true;
                }
            }

            return chunk;
        }

        private bool TryReadGroup(List<EventRecord> events, List<QuarantineRecord> quarantine, long limit)
        {
            Span<byte> header = stackalloc byte[4];
            var start = _file.Position;
            if (_file.ReadAtLeast(header, 4, throwOnEndOfStream: false) < 4)
            {
                return false;
            }

            var length = BitConverter.ToInt32(header);
            if (length <= 0 || length > Math.Min(_file.Length, limit) - _file.Position)
            {
                _file.Position = start;
                return false; // the tail of a group that was never acknowledged
            }

            if (_record.Length < length)
            {
                _record = new byte[length];
            }

            _file.ReadExactly(_record, 0, length);
            var (eventCount, quarantineCount) = (events.Count, quarantine.Count);
            try
            {
                using var reader = new BinaryReader(new MemoryStream(_record, 0, length, writable: false), System.Text.Encoding.UTF8);
                var version = reader.ReadInt32();
                if (version is not (1 or 2))
                {
                    _file.Position = start;
                    return false;
                }

                var contexts = new EventContext[version == 2 ? reader.ReadInt32() : 0];
                for (var i = 0; i < contexts.Length; i++)
                {
                    contexts[i] = ReadContext(reader);
                }

                for (var i = reader.ReadInt32(); i > 0; i--)
                {
                    var context = version == 2 ? contexts[reader.ReadInt32()] : null;
                    events.Add(ReadEvent(reader, context));
                }

                for (var i = reader.ReadInt32(); i > 0; i--)
                {
                    quarantine.Add(new QuarantineRecord
                    {
                        Product = reader.ReadString(),
                        EventId = ReadGuid(reader),
                        ReasonCode = reader.ReadString(),
                        Message = reader.ReadString(),
                        SchemaRef = ReadString(reader),
                        ReceivedAt = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero),
                        EventJson = reader.ReadString(),
                    });
                }

                return true;
            }
            catch (Exception ex) when (ex is EndOfStreamException or IOException or ArgumentException or FormatException or IndexOutOfRangeException)
            {
                // Torn by a crash before its flush, so never acknowledged: drop what it began.
                events.RemoveRange(eventCount, events.Count - eventCount);
                quarantine.RemoveRange(quarantineCount, quarantine.Count - quarantineCount);
                _file.Position = start;
                return false;
            }
        }

        public void Dispose() => _file.Dispose();
    }

    /// <summary>Groups read back together: their events and quarantined events, and how many groups.</summary>
    internal sealed class Chunk
    {
        public List<EventRecord> Events { get; } = [];

        public List<QuarantineRecord> Quarantine { get; } = [];

        public int Groups { get; set; }
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
    }

    private static EventContext ReadContext(BinaryReader r) => new()
    {
        Product = r.ReadString(),
        ProductVersion = ReadString(r),
        InitialVersion = ReadString(r),
        SdkVersion = ReadString(r),
        RuntimeVersion = ReadString(r),
        OsFamily = ReadString(r),
        OsVersion = ReadString(r),
        KernelRelease = ReadString(r),
        Architecture = ReadString(r),
        Ci = r.ReadBoolean(),
        CiName = ReadString(r),
        SessionId = new Guid(r.ReadBytes(16)),
        InstallId = ReadGuid(r),
        ProjectId = ReadString(r),
        UserId = ReadString(r),
    };

    /// <summary>An event; its context is <paramref name="context"/>, or (version 1) read inline.</summary>
    private static EventRecord ReadEvent(BinaryReader r, EventContext? context)
    {
        var product = r.ReadString();
        var id = new Guid(r.ReadBytes(16));
        var name = r.ReadString();
        var schemaVersion = r.ReadString();
        var time = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
        var receivedAt = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
        context ??= ReadContext(r);
        var properties = ReadString(r);
        var country = ReadString(r);
        var region = ReadString(r);
        var ipPseudonym = ReadString(r);
        var subject = ReadString(r);
        var hasDuration = r.ReadBoolean();
        var duration = r.ReadDouble();
        var failed = r.ReadByte();
        var errorCode = ReadString(r);
        return new EventRecord
        {
            Product = product,
            Id = id,
            Name = name,
            SchemaVersion = schemaVersion,
            Time = time,
            ReceivedAt = receivedAt,
            Context = context,
            PropertiesJson = properties,
            Country = country,
            Region = region,
            IpPseudonym = ipPseudonym,
            Analytics = new AnalyticsFields(subject, hasDuration ? duration : null, failed == 2 ? null : failed == 1, errorCode),
        };
    }

    private static void WriteString(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null)
        {
            w.Write(value);
        }
    }

    private static string? ReadString(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    private static void WriteGuid(BinaryWriter w, Guid? value)
    {
        w.Write(value.HasValue);
        if (value is { } guid)
        {
            w.Write(guid.ToByteArray());
        }
    }

    private static Guid? ReadGuid(BinaryReader r) => r.ReadBoolean() ? new Guid(r.ReadBytes(16)) : null;
}
