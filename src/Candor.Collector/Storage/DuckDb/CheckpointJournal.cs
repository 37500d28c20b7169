using Candor.Collector.Analytics;
using Candor.Protocol;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// Where the DuckDB store keeps the groups it accepts while DuckDB checkpoints. A checkpoint blocks
/// every write to the database for one to three seconds (DuckDB 1.5); the store then appends each
/// group here instead, flushed to disk before the group is acknowledged, and applies the file's groups
/// to the database as soon as the checkpoint is done. A file left by a crash is applied when the
/// store next opens (dedup makes a group applied twice harmless).
/// </summary>
/// <remarks>Format: per group, a 4-byte length, then the group (<see cref="BinaryWriter"/> encoding). A
/// group whose bytes are not all there was never acknowledged (the flush comes before the answer),
/// so reading stops there.</remarks>
internal sealed class CheckpointJournal : IDisposable
{
    private const int Version = 1;

    private readonly FileStream _file;
    private readonly MemoryStream _buffer = new();

    private CheckpointJournal(FileStream file) => _file = file;

    public string Path => _file.Name;

    /// <summary>Starts an empty journal at <paramref name="path"/>, replacing any file there.</summary>
    public static CheckpointJournal Create(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.None));

    /// <summary>Appends a group and flushes it to disk; returns once it is durable.</summary>
    public void Append(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine)
    {
        _buffer.SetLength(4);
        _buffer.Position = 4;
        using (var writer = new BinaryWriter(_buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version);
            writer.Write(events.Count);
            foreach (var e in events)
            {
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

        if (Broken)
        {
            throw new IOException("The checkpoint journal could not be repaired after a failed write.");
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
    }

    /// <summary>Whether a failed write could not be cut off: the store then stops journaling.</summary>
    public bool Broken { get; private set; }

    /// <summary>Reads a journal's complete groups in the order written, a few at a time.</summary>
    internal sealed class Reader(string path) : IDisposable
    {
        private readonly FileStream _file = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024);
        private byte[] _record = new byte[64 * 1024];

        /// <summary>Whether every complete group has been read.</summary>
        public bool AtEnd { get; private set; }

        /// <summary>Reads whole groups until at least <paramref name="events"/> events (or the end).</summary>
        public (List<EventRecord> Events, List<QuarantineRecord> Quarantine) ReadChunk(int events)
        {
            var chunk = (Events: new List<EventRecord>(), Quarantine: new List<QuarantineRecord>());
            while (!AtEnd && chunk.Events.Count < events)
            {
                if (!TryReadGroup(chunk.Events, chunk.Quarantine))
                {
                    AtEnd = true;
                }
            }

            return chunk;
        }

        private bool TryReadGroup(List<EventRecord> events, List<QuarantineRecord> quarantine)
        {
            Span<byte> header = stackalloc byte[4];
            if (_file.ReadAtLeast(header, 4, throwOnEndOfStream: false) < 4)
            {
                return false;
            }

            var length = BitConverter.ToInt32(header);
            if (length <= 0 || length > _file.Length - _file.Position)
            {
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
                if (reader.ReadInt32() != Version)
                {
                    return false;
                }

                for (var i = reader.ReadInt32(); i > 0; i--)
                {
                    events.Add(ReadEvent(reader));
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
            catch (Exception ex) when (ex is EndOfStreamException or IOException or ArgumentException or FormatException)
            {
                // Torn by a crash before its flush, so never acknowledged: drop what it began.
                events.RemoveRange(eventCount, events.Count - eventCount);
                quarantine.RemoveRange(quarantineCount, quarantine.Count - quarantineCount);
                return false;
            }
        }

        public void Dispose() => _file.Dispose();
    }

    public void Dispose()
    {
        _file.Dispose();
        _buffer.Dispose();
    }

    private static void WriteEvent(BinaryWriter w, EventRecord e)
    {
        var c = e.Context;
        w.Write(e.Product);
        w.Write(e.Id.ToByteArray());
        w.Write(e.Name);
        w.Write(e.SchemaVersion);
        w.Write(e.Time.UtcTicks);
        w.Write(e.ReceivedAt.UtcTicks);
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

    private static EventRecord ReadEvent(BinaryReader r)
    {
        var product = r.ReadString();
        var id = new Guid(r.ReadBytes(16));
        var name = r.ReadString();
        var schemaVersion = r.ReadString();
        var time = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
        var receivedAt = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
        var context = new EventContext
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
