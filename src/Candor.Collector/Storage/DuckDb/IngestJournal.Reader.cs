using Candor.Protocol;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>Reading a journal back: <see cref="Reader"/> and the <see cref="Chunk"/>s it reads.</summary>
internal sealed partial class IngestJournal
{
    /// <summary>
    /// A journal's records, read back in the order written, with every string within
    /// <see cref="JournalBounds"/>. What cannot be read is skipped and reported in <see cref="Skipped"/>:
    /// a torn tail (a group a crash cut short, never acknowledged), a record whose checksum fails (the
    /// records after it are still read), or what follows a damaged header (nothing after it can be found).
    /// </summary>
    internal sealed class Reader(string path, JournalBounds? bounds = null) : IDisposable
    {
        private const int KeptRecordBytes = 4 << 20;

        // Unbuffered: a buffer could hold bytes past the flushed length that a failed write then rewrites.
        private readonly FileStream _file = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        private readonly JournalBounds _bounds = bounds ?? JournalBounds.Default;
        private readonly JournalPayloadReader _payload = new();
        private readonly List<JournalSkip> _skipped = [];
        private byte[] _record = new byte[64 * 1024];
        private int _format; // 0 until the file's start is read, then 1 (versions 1 and 2) or 3

        /// <summary>Whether the whole file has been read (when reading to the file's end).</summary>
        public bool AtEnd { get; private set; }

        /// <summary>The offset of the next record.</summary>
        public long Position => _file.Position;

        /// <summary>What was skipped, in file order.</summary>
        public IReadOnlyList<JournalSkip> Skipped => _skipped;

        /// <summary>How many strings were cut to their bound.</summary>
        public long StringsCut => _payload.StringsCut;

        /// <summary>Reads records until the chunk holds <paramref name="maxRows"/> rows (events and quarantined
        /// events) or <paramref name="maxBytes"/> bytes of records, or the file's end, or <paramref name="limit"/>
        /// (a length known to end on a record: the writer's flushed length).</summary>
        public Chunk ReadChunk(int maxRows, long maxBytes, long limit = long.MaxValue)
        {
            var chunk = new Chunk();
            var (start, skipped, cut) = (_file.Position, _skipped.Count, _payload.StringsCut);
            while (!AtEnd && chunk.Events.Count + chunk.Quarantine.Count < maxRows && _file.Position - start < maxBytes)
            {
                var end = Math.Min(_file.Length, limit);
                if (_file.Position >= end)
                {
                    AtEnd = limit == long.MaxValue;
                    break;
                }

                if (_format == 0 && !ReadFormat(end))
                {
                    break;
                }

                if (_format == JournalRecordFormat.Version)
                {
                    ReadRecord(chunk, end);
                }
                else
                {
                    ReadLegacyGroup(chunk, end);
                }
            }

            chunk.Bytes = _file.Position - start;
            chunk.Skipped.AddRange(_skipped.Skip(skipped));
            chunk.StringsCut = _payload.StringsCut - cut;
            return chunk;
        }

        /// <summary>Reads the file's start: a version 3 header, or none (versions 1 and 2).</summary>
        private bool ReadFormat(long end)
        {
            Span<byte> magic = stackalloc byte[JournalRecordFormat.FileHeaderBytes];
            var read = _file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
            if (read == magic.Length && magic.SequenceEqual(JournalRecordFormat.Magic))
            {
                _format = JournalRecordFormat.Version;
                return true;
            }

            if (read < magic.Length && magic[..read].SequenceEqual(JournalRecordFormat.Magic[..read]))
            {
                Skip(0, end, "torn_tail"); // created, and cut off by a crash before its header was whole
                return false;
            }

            _file.Position = 0;
            _format = 1;
            return true;
        }

        private void ReadRecord(Chunk chunk, long end)
        {
            var start = _file.Position;
            if (end - start < JournalRecordFormat.RecordHeaderBytes)
            {
                Skip(start, end, "torn_tail");
                return;
            }

            Span<byte> header = stackalloc byte[JournalRecordFormat.RecordHeaderBytes];
            _file.ReadExactly(header);
            if (!JournalRecordFormat.TryReadRecordHeader(header, out var length, out var crc))
            {
                // A length that cannot be believed: where the next record starts is unknown.
                Skip(start, end, "bad_header");
                return;
            }

            if (length > end - _file.Position)
            {
                Skip(start, end, "torn_tail");
                return;
            }

            var bytes = Load(length);
            if (JournalRecordFormat.Crc32C(bytes.AsSpan(0, length)) != crc)
            {
                SkippedRecord(start, "checksum");
                return;
            }

            if (!TryParse(chunk, bytes, length, legacy: false))
            {
                SkippedRecord(start, "unreadable");
            }
        }

        /// <summary>A version 1 or 2 group: no checksum, so a group that does not parse is skipped
        /// (its length is all there is to go on).</summary>
        private void ReadLegacyGroup(Chunk chunk, long end)
        {
            var start = _file.Position;
            Span<byte> header = stackalloc byte[4];
            if (end - start < 4)
            {
                Skip(start, end, "torn_tail");
                return;
            }

            _file.ReadExactly(header);
            var length = BitConverter.ToInt32(header);
            if (length <= 0 || length > end - _file.Position)
            {
                Skip(start, end, "torn_tail");
                return;
            }

            var bytes = Load(length);
            if (!TryParse(chunk, bytes, length, legacy: true))
            {
                SkippedRecord(start, "unreadable");
            }
        }

        /// <summary>Reads the next <paramref name="length"/> bytes; a huge record gets its own array, let go after it.</summary>
        private byte[] Load(int length)
        {
            var bytes = _record.Length >= length ? _record : new byte[length];
            if (length <= KeptRecordBytes)
            {
                _record = bytes;
            }

            _file.ReadExactly(bytes, 0, length);
            return bytes;
        }

        /// <summary>Parses a record into the chunk; on failure leaves the chunk as it was.</summary>
        private bool TryParse(Chunk chunk, byte[] bytes, int length, bool legacy)
        {
            var (events, quarantine, released) = (chunk.Events.Count, chunk.Quarantine.Count, chunk.Released.Count);
            _payload.Reset(bytes, length);
            try
            {
                var version = _payload.ReadInt32();
                if (legacy ? version is not (1 or 2) : version != JournalRecordFormat.Version)
                {
                    return false;
                }

                if (legacy)
                {
                    ParseLegacy(chunk, version);
                }
                else
                {
                    Parse(chunk);
                }

                chunk.Records.Add((chunk.Events.Count, chunk.Quarantine.Count));
                return true;
            }
            catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IndexOutOfRangeException)
            {
                chunk.Events.RemoveRange(events, chunk.Events.Count - events);
                chunk.Quarantine.RemoveRange(quarantine, chunk.Quarantine.Count - quarantine);
                chunk.Released.RemoveRange(released, chunk.Released.Count - released);
                return false;
            }
        }

        private void Parse(Chunk chunk)
        {
            var contexts = new List<EventContext>();
            while (!_payload.AtEnd)
            {
                switch (_payload.ReadByte())
                {
                    case JournalRecordFormat.ContextTag:
                        contexts.Add(ReadContext());
                        break;
                    case JournalRecordFormat.ExtendedContextTag:
                        contexts.Add(ReadExtension(ReadContext()));
                        break;
                    case JournalRecordFormat.EventTag:
                        Add(chunk, ReadEvent(contexts[_payload.ReadInt32()]));
                        break;
                    case JournalRecordFormat.QuarantineTag:
                        chunk.Quarantine.Add(ReadQuarantine());
                        break;
                    case JournalRecordFormat.InstalledQuarantineTag:
                        chunk.Quarantine.Add(ReadQuarantine(withInstall: true));
                        break;
                    default:
                        throw new InvalidDataException("A journal record holds an unknown item.");
                }
            }
        }

        private void ParseLegacy(Chunk chunk, int version)
        {
            var contexts = new EventContext[version == 2 ? _payload.ReadCount() : 0];
            for (var i = 0; i < contexts.Length; i++)
            {
                contexts[i] = ReadContext();
            }

            for (var i = _payload.ReadCount(); i > 0; i--)
            {
                Add(chunk, ReadEvent(version == 2 ? contexts[_payload.ReadInt32()] : null));
            }

            for (var i = _payload.ReadCount(); i > 0; i--)
            {
                chunk.Quarantine.Add(ReadQuarantine());
            }

            if (!_payload.AtEnd)
            {
                throw new InvalidDataException("A journal group holds more than it should.");
            }
        }

        /// <summary>Adds an event; one whose properties pass their bound is quarantined instead.</summary>
        private void Add(Chunk chunk, EventRecord e)
        {
            if (e.PropertiesJson is { } properties && properties.Length > _bounds.PropertiesChars)
            {
                var message = $"The event's properties are longer than {_bounds.PropertiesChars} characters; the store keeps this excerpt.";
                chunk.Quarantine.Add(StorageRejection.ForEvent(e, message, _bounds));
                chunk.Released.Add((e.Product, e.Id));
                return;
            }

            chunk.Events.Add(e);
        }

        /// <summary>A quarantined event; <paramref name="withInstall"/> (<see cref="JournalRecordFormat.InstalledQuarantineTag"/>)
        /// when its install id follows, else (older journals) it has none. Read in the order written: an
        /// initializer sets its members in order.</summary>
        private QuarantineRecord ReadQuarantine(bool withInstall = false) => new()
        {
            Product = _payload.ReadString(_bounds.FieldChars),
            EventId = _payload.ReadNullableGuid(),
            ReasonCode = _payload.ReadString(_bounds.FieldChars),
            Message = _payload.ReadString(_bounds.ExcerptChars),
            SchemaRef = _payload.ReadNullableString(_bounds.SchemaRefChars),
            ReceivedAt = _payload.ReadUtcTicks(),
            EventJson = _payload.ReadString(_bounds.ExcerptChars),
            InstallId = withInstall ? _payload.ReadNullableGuid() : null,
        };

        private EventContext ReadContext()
        {
            var field = _bounds.FieldChars;
            return new EventContext
            {
                Product = _payload.ReadString(field),
                ProductVersion = _payload.ReadNullableString(field),
                InitialVersion = _payload.ReadNullableString(field),
                SdkVersion = _payload.ReadNullableString(field),
                RuntimeVersion = _payload.ReadNullableString(field),
                OsFamily = _payload.ReadNullableString(field),
                OsVersion = _payload.ReadNullableString(field),
                KernelRelease = _payload.ReadNullableString(field),
                Architecture = _payload.ReadNullableString(field),
                Ci = _payload.ReadBoolean(),
                CiName = _payload.ReadNullableString(field),
                SessionId = _payload.ReadGuid(),
                InstallId = _payload.ReadNullableGuid(),
                ProjectId = _payload.ReadNullableString(field),
                UserId = _payload.ReadNullableString(field),
            };
        }

        /// <summary>The fields an extended context adds, read into <paramref name="context"/>.</summary>
        private EventContext ReadExtension(EventContext context)
        {
            var field = _bounds.FieldChars;
            context.InstallIdPerProcess = _payload.ReadBoolean();
            context.Cloud = _payload.ReadNullableString(field);
            context.CloudPlatform = _payload.ReadNullableString(field);
            context.CloudRegion = _payload.ReadNullableString(field);
            context.Container = _payload.ReadNullableString(field);
            return context;
        }

        /// <summary>An event; its context is <paramref name="context"/>, or (version 1) read inline.</summary>
        private EventRecord ReadEvent(EventContext? context)
        {
            var field = _bounds.FieldChars;
            var product = _payload.ReadString(field);
            var id = _payload.ReadGuid();
            var name = _payload.ReadString(field);
            var schemaVersion = _payload.ReadString(field);
            var time = _payload.ReadUtcTicks();
            var receivedAt = _payload.ReadUtcTicks();
            context ??= ReadContext();
            // One past the bound: enough to tell properties that are too long (Add) without reading them whole.
            var properties = _payload.ReadNullableString(_bounds.PropertiesChars == int.MaxValue ? int.MaxValue : _bounds.PropertiesChars + 1);
            var country = _payload.ReadNullableString(field);
            var region = _payload.ReadNullableString(field);
            var ipPseudonym = _payload.ReadNullableString(field);
            var subject = _payload.ReadNullableString(field);
            var hasDuration = _payload.ReadBoolean();
            var duration = _payload.ReadDouble();
            var failed = _payload.ReadByte();
            var errorCode = _payload.ReadNullableString(field);
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

        /// <summary>Skips from <paramref name="start"/> to <paramref name="end"/>: the rest of what can be read.</summary>
        private void Skip(long start, long end, string reason)
        {
            _file.Position = end;
            if (end > start)
            {
                _skipped.Add(new JournalSkip(path, start, end - start, reason));
            }
        }

        /// <summary>Records that the record from <paramref name="start"/> to here was skipped.</summary>
        private void SkippedRecord(long start, string reason) => _skipped.Add(new JournalSkip(path, start, _file.Position - start, reason));

        public void Dispose() => _file.Dispose();
    }
}
