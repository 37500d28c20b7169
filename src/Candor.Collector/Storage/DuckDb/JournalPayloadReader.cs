using System.Buffers.Binary;
using System.Text;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// Reads the values of one journal record (<see cref="BinaryWriter"/>'s encoding) from its bytes in
/// memory. Strings are read to a bound: a longer one is cut as it is decoded, so a record holding a
/// huge string never allocates it. A value that runs past the record's end throws <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class JournalPayloadReader
{
    private byte[] _data = [];
    private int _position;
    private int _end;

    /// <summary>How many strings were cut to their bound, over every record read.</summary>
    public long StringsCut { get; private set; }

    public bool AtEnd => _position >= _end;

    /// <summary>Reads <paramref name="length"/> bytes of <paramref name="data"/> from the start next.</summary>
    public void Reset(byte[] data, int length) => (_data, _position, _end) = (data, 0, length);

    public byte ReadByte()
    {
        Need(1);
        return _data[_position++];
    }

    /// <summary>A count of items that follow: each takes at least a byte, so a larger one is damage.</summary>
    public int ReadCount()
    {
        var count = ReadInt32();
        return count >= 0 && count <= _end - _position ? count : throw new InvalidDataException("A journal record holds an impossible count.");
    }

    public bool ReadBoolean() => ReadByte() != 0;

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public Guid ReadGuid() => new(Take(16));

    public Guid? ReadNullableGuid() => ReadBoolean() ? ReadGuid() : null;

    public DateTimeOffset ReadUtcTicks() => new(ReadInt64(), TimeSpan.Zero);

    public string? ReadNullableString(int maxChars) => ReadBoolean() ? ReadString(maxChars) : null;

    /// <summary>A string of at most <paramref name="maxChars"/> characters: a longer one is cut there
    /// (never inside a UTF-8 sequence or a surrogate pair) and its remaining bytes skipped.</summary>
    public string ReadString(int maxChars)
    {
        var length = Read7BitEncodedInt();
        var bytes = Take(length);
        if (length <= maxChars)
        {
            return Encoding.UTF8.GetString(bytes); // never more characters than bytes
        }

        // maxChars UTF-16 characters take at most 3 UTF-8 bytes each: decode no more than that.
        var prefix = (int)Math.Min(length, 3L * maxChars);
        while (prefix > 0 && prefix < length && (bytes[prefix] & 0xC0) == 0x80)
        {
            prefix--;
        }

        var text = Encoding.UTF8.GetString(bytes[..prefix]);
        if (text.Length <= maxChars && prefix == length)
        {
            return text;
        }

        StringsCut++;
        if (text.Length <= maxChars)
        {
            return text;
        }

        var cut = maxChars > 0 && char.IsHighSurrogate(text[maxChars - 1]) ? maxChars - 1 : maxChars;
        return text[..cut];
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        Need(count);
        var span = _data.AsSpan(_position, count);
        _position += count;
        return span;
    }

    private void Need(int count)
    {
        if (count < 0 || count > _end - _position)
        {
            throw new InvalidDataException("A journal record ends inside a value.");
        }
    }

    private int Read7BitEncodedInt()
    {
        var result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = ReadByte();
            result |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw new InvalidDataException("A journal record holds a malformed string length.");
    }
}
