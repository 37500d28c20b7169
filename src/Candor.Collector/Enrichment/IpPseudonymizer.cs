using System.Net;
using System.Security.Cryptography;

namespace Candor.Collector.Enrichment;

/// <summary>
/// Turns a client address into a pseudonym: HMAC-SHA256 under a random 256-bit key that is made
/// in memory for each UTC day and never written anywhere. Unlike a salted plain hash (Snowplow), the
/// IPv4 space cannot be brute-forced without the key; and once the day's key is gone, yesterday's
/// pseudonyms can no longer be linked to addresses or to today's.
/// </summary>
internal sealed class IpPseudonymizer(TimeProvider time)
{
    private readonly Lock _lock = new();
    private DateOnly _day;
    private byte[] _key = [];

    public string Pseudonymize(IPAddress address)
    {
        var key = KeyFor(DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
        var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        Span<byte> bytes = stackalloc byte[16];
        normalized.TryWriteBytes(bytes, out var written);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, bytes[..written], mac);
        return Convert.ToHexStringLower(mac[..16]);
    }

    private byte[] KeyFor(DateOnly day)
    {
        lock (_lock)
        {
            if (day != _day)
            {
                CryptographicOperations.ZeroMemory(_key);
                _key = RandomNumberGenerator.GetBytes(32);
                _day = day;
            }

            return _key;
        }
    }
}
