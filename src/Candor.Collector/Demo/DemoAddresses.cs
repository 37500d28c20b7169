using System.Net;

namespace Candor.Collector.Demo;

/// <summary>A network the demo's simulated installs connect from, with where it is.</summary>
internal sealed record DemoNetwork(string Network, string Country, string? Region, int Weight)
{
    /// <summary>An address inside the network, chosen by <paramref name="random"/>.</summary>
    public IPAddress AddressIn(Random random)
    {
        var network = IPNetwork.Parse(Network);
        var bytes = network.BaseAddress.GetAddressBytes();
        var hostBits = bytes.Length * 8 - network.PrefixLength;
        // Vary the last byte or two within the host part, never the network part.
        for (var bit = 0; bit < Math.Min(hostBits, 16); bit++)
        {
            if (random.Next(2) == 1)
            {
                bytes[bytes.Length - 1 - bit / 8] |= (byte)(1 << (bit % 8));
            }
        }

        return new IPAddress(bytes);
    }
}

/// <summary>
/// Where the demo's installs connect from: networks of MaxMind's GeoIP test databases (the ones the
/// tests use, e.g. <c>81.2.69.142</c> is GB/ENG), so a collector configured with such a database
/// locates them through its real enrichment. With no GeoIP database configured, the demo uses the
/// country and region listed here instead, so the country panel is not empty; real traffic is
/// never located by this table.
/// </summary>
internal static class DemoAddresses
{
    public static IReadOnlyList<DemoNetwork> Networks { get; } =
    [
        new("216.160.83.56/29", "US", "WA", 26),
        new("2a02:d180::/29", "DE", null, 16),
        new("81.2.69.160/27", "GB", "ENG", 12),
        new("2a02:cfc0::/29", "FR", null, 9),
        new("2001:218::/32", "JP", null, 8),
        new("89.160.20.128/25", "SE", "E", 6),
        new("175.16.199.0/24", "CN", "22", 6),
        new("2001:220::/32", "KR", null, 4),
        new("2a02:d5c0::/29", "ES", null, 4),
        new("2a02:d100::/29", "PL", null, 3),
        new("2a02:d1c0::/29", "IT", null, 3),
        new("202.196.224.0/20", "PH", null, 2),
        new("2a02:cf40::/29", "NO", null, 1),
    ];

    public static DemoNetwork Pick(Random random)
    {
        var roll = random.Next(Networks.Sum(n => n.Weight));
        foreach (var network in Networks)
        {
            roll -= network.Weight;
            if (roll < 0)
            {
                return network;
            }
        }

        return Networks[0];
    }
}
