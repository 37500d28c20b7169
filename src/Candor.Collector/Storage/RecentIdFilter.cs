using System.Buffers.Binary;

namespace Candor.Collector.Storage;

/// <summary>
/// Lets the single writer skip the database's dedup lookup for fresh event ids. Event ids are
/// UUIDv7, so their leading bytes are a timestamp and they sort by time. The filter covers every id
/// at or above a bound (<see cref="Bound"/>, in the UUID's byte order, which is also DuckDB's and
/// PostgreSQL's order for UUIDs) and holds all such ids that are stored: it is loaded from the table
/// when it is (re)built and every id stored afterwards is added. It is a Bloom filter, so it can say
/// "maybe stored" of an id that is not (about 1 % of fresh ids, then checked in the database), but
/// never "not stored" of one that is: answers stay exact. Ids below the bound (events spooled for
/// a while, clients with slow clocks) are always checked in the database.
/// </summary>
internal sealed class RecentIdFilter
{
    // 7 probes over ~9.6 bits per id: a false-positive rate of about 1 %.
    private const int Probes = 7;
    private const double BitsPerId = 9.6;

    private readonly ulong[] _bits;
    private readonly ulong _bitCount;

    public RecentIdFilter(int capacity, Guid bound)
    {
        Capacity = capacity;
        Bound = bound;
        _bitCount = (ulong)Math.Max(64, (long)(capacity * BitsPerId)) / 64 * 64;
        _bits = new ulong[_bitCount / 64];
        BoundPrefix = Prefix(bound);
    }

    /// <summary>The lowest id the filter covers.</summary>
    public Guid Bound { get; }

    /// <summary>How many ids it holds before it is full (and the false-positive rate rises).</summary>
    public int Capacity { get; }

    public int Count { get; private set; }

    public bool IsFull => Count >= Capacity;

    private ulong BoundPrefix { get; }

    /// <summary>The bound for ids made at <paramref name="time"/> or later: the UUIDv7 layout,
    /// 48 bits of Unix milliseconds, then zeros.</summary>
    public static Guid BoundAt(DateTimeOffset time)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        var milliseconds = (ulong)Math.Max(0, time.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteUInt64BigEndian(bytes, milliseconds << 16);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>Whether the filter knows every stored id equal to <paramref name="id"/>: true when the
    /// id is at or above the bound.</summary>
    public bool Covers(Guid id) => Prefix(id) >= BoundPrefix;

    /// <summary>False only when <paramref name="id"/> (which it covers) is certainly not stored.</summary>
    public bool MayContain(Guid id)
    {
        var (h1, h2) = Hash(id);
        for (var i = 0; i < Probes; i++)
        {
            var bit = (h1 + (ulong)i * h2) % _bitCount;
            if ((_bits[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    public void Add(Guid id)
    {
        if (!Covers(id))
        {
            return;
        }

        var (h1, h2) = Hash(id);
        for (var i = 0; i < Probes; i++)
        {
            var bit = (h1 + (ulong)i * h2) % _bitCount;
            _bits[bit >> 6] |= 1UL << (int)(bit & 63);
        }

        Count++;
    }

    private static ulong Prefix(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

    private static (ulong, ulong) Hash(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes);
        // Mixed, not taken as is: ids come from clients, and a crafted id should only cost a lookup.
        var h1 = Mix(BinaryPrimitives.ReadUInt64LittleEndian(bytes) ^ 0x9E3779B97F4A7C15UL);
        var h2 = Mix(BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]) + h1) | 1;
        return (h1, h2);
    }

    // splitmix64's finalizer.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
