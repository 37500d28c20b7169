using System.Buffers.Binary;
using System.Numerics;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// The ingest journal's file and record layout (version 3), and its checksums.
/// </summary>
/// <remarks>
/// A version 3 file starts with <see cref="FileHeaderBytes"/> bytes: the magic <c>CANDJNL3</c>, so a
/// reader tells it from a version 1 or 2 file (which starts with a record's length). Then records,
/// each <see cref="RecordHeaderBytes"/> bytes of header and a payload:
/// <list type="bullet">
/// <item>int32 payload length, little-endian;</item>
/// <item>uint32 CRC-32C of the payload;</item>
/// <item>uint32 CRC-32C of the eight bytes before it, so a length that is read is one that was written;</item>
/// <item>the payload: int32 version (3), then tagged items to its end — <c>1</c> a context (numbered
/// from 0 in the record), <c>2</c> an event (its context's number, then its fields), <c>3</c> a
/// quarantined event, <c>4</c> a context with the fields added since (<c>1</c>'s fields, then
/// install_id_per_process, cloud, cloud_platform, cloud_region, container), <c>5</c> a quarantined
/// event with the install id of its batch (<c>3</c>'s fields, then the install id). The collector
/// writes <c>4</c> and <c>5</c> and reads all five, so a journal an older collector left is still
/// applied; new items get new tags rather than a new version, which would make every older journal unreadable.</item>
/// </list>
/// A group is one or more records (a large one is cut at <see cref="RecordTargetBytes"/>), all written and
/// flushed together. A record whose payload checksum fails is skipped and reading goes on after it (its
/// header's checksum vouches for its length); a header that fails its checksum, or runs past the file's
/// end, ends the file: nothing after it can be found.
/// </remarks>
internal static class JournalRecordFormat
{
    /// <summary>The payload version this format writes.</summary>
    public const int Version = 3;

    public const int FileHeaderBytes = 8;

    public const int RecordHeaderBytes = 12;

    /// <summary>Once a record's payload passes this, the group goes on in a new record: the applier then
    /// holds and commits a bounded amount at once, however large the group.</summary>
    public const int RecordTargetBytes = 1 << 20;

    public const byte ContextTag = 1;

    public const byte EventTag = 2;

    public const byte QuarantineTag = 3;

    /// <summary>A context with the fields added after <see cref="ContextTag"/> (which is still read).</summary>
    public const byte ExtendedContextTag = 4;

    /// <summary>A quarantined event with its batch's install id (what forget deletes by) after the
    /// fields of <see cref="QuarantineTag"/> (which is still read, with no install id).</summary>
    public const byte InstalledQuarantineTag = 5;

    /// <summary>"CANDJNL3".</summary>
    public static ReadOnlySpan<byte> Magic => "CANDJNL3"u8;

    /// <summary>Writes a record's header in front of its payload (<paramref name="record"/> is header and payload).</summary>
    public static void WriteRecordHeader(Span<byte> record)
    {
        var payload = record[RecordHeaderBytes..];
        BinaryPrimitives.WriteInt32LittleEndian(record, payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32C(payload));
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], Crc32C(record[..8]));
    }

    /// <summary>A record header's payload length and checksum, or false when its own checksum fails.</summary>
    public static bool TryReadRecordHeader(ReadOnlySpan<byte> header, out int length, out uint payloadCrc)
    {
        length = BinaryPrimitives.ReadInt32LittleEndian(header);
        payloadCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        return BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) == Crc32C(header[..8]) && length >= 4;
    }

    /// <summary>CRC-32C (Castagnoli) of <paramref name="data"/>, with the processor's instruction where it has one.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
