using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Npgsql;

namespace Candor.Collector.Storage.Postgres;

/// <summary>
/// Encodes rows in PostgreSQL's binary COPY format (a signature, then per row a field count and each
/// field as a length and its bytes; see the COPY page of the PostgreSQL manual) into a pooled buffer,
/// and sends it through Npgsql's raw binary COPY stream.
/// </summary>
/// <remarks>
/// Why not <see cref="NpgsqlBinaryImporter"/>: it resolves a converter and keeps a parameter per value
/// written, which made it a large part of the collector's CPU during PostgreSQL ingest (28 values per
/// event). The column types here are fixed by the collector's own schema, so each value is a few
/// bytes copied. The server checks every value as it does for the importer: a wrong encoding fails
/// the COPY, and with it the transaction, never silently.
/// </remarks>
internal sealed class CopyRowBuffer : IDisposable
{
    // "PGCOPY\n\377\r\n\0", then the flags field and the header extension length (both zero).
    private static ReadOnlySpan<byte> Header => [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];

    // PostgreSQL timestamps count microseconds from 2000-01-01 00:00:00 UTC.
    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _length;

    public CopyRowBuffer() => Append(Header);

    public void StartRow(short fields) => BinaryPrimitives.WriteInt16BigEndian(Reserve(2), fields);

    public void WriteNull() => BinaryPrimitives.WriteInt32BigEndian(Reserve(4), -1);

    public void WriteText(string? value)
    {
        if (value is null)
        {
            WriteNull();
        }
        else
        {
            WriteUtf8(value, prefix: null);
        }
    }

    /// <summary>A <c>jsonb</c> value: its format version (1), then the JSON text.</summary>
    public void WriteJsonb(string? json)
    {
        if (json is null)
        {
            WriteNull();
        }
        else
        {
            WriteUtf8(json, prefix: 1);
        }
    }

    public void WriteUuid(Guid? value)
    {
        if (value is { } id)
        {
            id.TryWriteBytes(Field(16), bigEndian: true, out _);
        }
        else
        {
            WriteNull();
        }
    }

    /// <summary>A <c>timestamptz</c>; sub-microsecond ticks are truncated, as Npgsql does.</summary>
    public void WriteTimestamp(DateTimeOffset value) =>
        BinaryPrimitives.WriteInt64BigEndian(Field(8), (value.UtcTicks - PostgresEpochTicks) / 10);

    public void WriteInteger(int value) => BinaryPrimitives.WriteInt32BigEndian(Field(4), value);

    public void WriteBoolean(bool? value)
    {
        if (value is { } b)
        {
            Field(1)[0] = b ? (byte)1 : (byte)0;
        }
        else
        {
            WriteNull();
        }
    }

    public void WriteDouble(double? value)
    {
        if (value is { } d)
        {
            BinaryPrimitives.WriteDoubleBigEndian(Field(8), d);
        }
        else
        {
            WriteNull();
        }
    }

    /// <summary>
    /// Runs <paramref name="copyCommand"/> (a <c>COPY … FROM STDIN (FORMAT BINARY)</c>) on
    /// <paramref name="connection"/> with the rows buffered so far, and ends it. The rows are encoded
    /// before the COPY starts, so a COPY is only begun once there is nothing left that could fail
    /// half-way on this side.
    /// </summary>
    public async Task SendAsync(NpgsqlConnection connection, string copyCommand, CancellationToken cancellationToken)
    {
        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), -1);
        // Disposing the raw stream sends CopyDone, and the server's verdict on the rows arrives then.
        await using var copy = await connection.BeginRawBinaryCopyAsync(copyCommand, cancellationToken);
        await copy.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken);
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private void WriteUtf8(string value, byte? prefix)
    {
        var extra = prefix is null ? 0 : 1;
        var span = Reserve(4 + extra + Encoding.UTF8.GetMaxByteCount(value.Length));
        if (prefix is { } version)
        {
            span[4] = version;
        }

        var written = Encoding.UTF8.GetBytes(value, span[(4 + extra)..]);
        BinaryPrimitives.WriteInt32BigEndian(span, written + extra);
        // Reserve took the worst case; give back what UTF-8 did not need.
        _length -= span.Length - (4 + extra + written);
    }

    /// <summary>Writes a field's length and returns the span for its <paramref name="length"/> bytes.</summary>
    private Span<byte> Field(int length)
    {
        var span = Reserve(4 + length);
        BinaryPrimitives.WriteInt32BigEndian(span, length);
        return span[4..];
    }

    private void Append(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
