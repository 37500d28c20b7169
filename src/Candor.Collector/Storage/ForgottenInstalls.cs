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

    /// <summary>How many tombstones are held.</summary>
    public int Count => _tombstones.Count;

    /// <summary>Whether the key has been loaded (the store is open).</summary>
    public bool IsLoaded => _key is not null;

    /// <summary>Takes the store's key and its tombstones (at start, and again when another instance
    /// may have added some).</summary>
    public void Load(byte[] key, IEnumerable<byte[]> tombstones)
    {
        _key = key;
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

    /// <summary>Whether the install was forgotten. Costs nothing while no install ever was.</summary>
    public bool IsForgotten(string product, Guid? installId) =>
        installId is { } id && !_tombstones.IsEmpty && _key is not null && _tombstones.ContainsKey(Convert.ToHexString(Tombstone(product, id)));

    /// <summary>Adds a tombstone: from now on the install's events are refused.</summary>
    public void Add(byte[] tombstone) => _tombstones.TryAdd(Convert.ToHexString(tombstone), 0);
}
