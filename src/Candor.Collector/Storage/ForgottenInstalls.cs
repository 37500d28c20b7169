using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Candor.Collector.Storage;

/// <summary>
/// The tombstones of forgotten installs, held in memory so that every batch can be checked: a keyed
/// hash (HMAC-SHA256) of the product and the install id, never the id itself. The key is made once
/// and kept in the store (<see cref="IDataRights.ReadOrCreateTombstoneKeyAsync"/>), so every instance
/// on one database computes the same tombstone. Loaded when the store opens; a forget adds its own.
/// </summary>
internal sealed class ForgottenInstalls
{
    private readonly ConcurrentDictionary<string, byte> _tombstones = new(StringComparer.Ordinal);
    private volatile byte[]? _key;

    // Raised by every change, so that no thread's last answer outlives it.
    private int _version;

    // The thread's last question and answer: a batch's events share their install, and the stores ask
    // once per event, so most questions skip the HMAC.
    [ThreadStatic]
    private static LastCheck? t_last;

    /// <summary>How many tombstones are held.</summary>
    public int Count => _tombstones.Count;

    /// <summary>Whether the key has been loaded (the store is open).</summary>
    public bool IsLoaded => _key is not null;

    /// <summary>Takes the store's key and its tombstones (at start, and again when another instance
    /// may have added some).</summary>
    public void Load(byte[] key, IEnumerable<byte[]> tombstones)
    {
        _key = key;
        Interlocked.Increment(ref _version);
        foreach (var tombstone in tombstones)
        {
            Add(tombstone);
        }
    }

    /// <summary>The tombstone of an install of a product.</summary>
    public byte[] Tombstone(string product, Guid installId)
    {
        var key = _key ?? throw new InvalidOperationException("The tombstone key is not loaded yet.");
        return HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(product + "\n" + installId.ToString("D")));
    }

    /// <summary>Whether the install was forgotten. Costs nothing while no install ever was; asked again
    /// for the same install on the same thread, costs no hash.</summary>
    public bool IsForgotten(string product, Guid? installId)
    {
        if (installId is not { } id || _tombstones.IsEmpty || _key is null)
        {
            return false;
        }

        var version = Volatile.Read(ref _version);
        var last = t_last ??= new LastCheck();
        if (ReferenceEquals(last.Owner, this) && last.Version == version && last.Id == id && string.Equals(last.Product, product, StringComparison.Ordinal))
        {
            return last.Forgotten;
        }

        var forgotten = _tombstones.ContainsKey(Convert.ToHexString(Tombstone(product, id)));
        (last.Owner, last.Product, last.Id, last.Version, last.Forgotten) = (this, product, id, version, forgotten);
        return forgotten;
    }

    /// <summary>Adds a tombstone: from now on the install's events are refused.</summary>
    public void Add(byte[] tombstone)
    {
        if (_tombstones.TryAdd(Convert.ToHexString(tombstone), 0))
        {
            Interlocked.Increment(ref _version);
        }
    }

    private sealed class LastCheck
    {
        public ForgottenInstalls? Owner;
        public string? Product;
        public Guid Id;
        public int Version;
        public bool Forgotten;
    }
}
