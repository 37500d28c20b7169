using System.Net;
using Candor.Collector.Enrichment;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Collector.Tests.Enrichment;

public sealed class IpPseudonymizerTests
{
    [Fact]
    public void TheSameAddressGetsTheSamePseudonymWithinADayAndAnotherTheNextDay()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));
        var pseudonymizer = new IpPseudonymizer(time);
        var address = IPAddress.Parse("81.2.69.142");

        var morning = pseudonymizer.Pseudonymize(address);
        time.Advance(TimeSpan.FromHours(15));
        var evening = pseudonymizer.Pseudonymize(address);
        time.Advance(TimeSpan.FromHours(1));
        var nextDay = pseudonymizer.Pseudonymize(address);

        Assert.Equal(morning, evening);
        Assert.NotEqual(morning, nextDay);
        Assert.NotEqual(morning, pseudonymizer.Pseudonymize(IPAddress.Parse("81.2.69.143")));
        Assert.Matches("^[0-9a-f]{32}$", morning);
    }

    [Fact]
    public void AnIpv4AddressMappedToIpv6GetsTheSamePseudonymAsTheIpv4Address()
    {
        var pseudonymizer = new IpPseudonymizer(TimeProvider.System);
        var address = IPAddress.Parse("81.2.69.142");

        Assert.Equal(pseudonymizer.Pseudonymize(address), pseudonymizer.Pseudonymize(address.MapToIPv6()));
    }

    [Fact]
    public void TheGeoLocatorFindsCountryAndRegionInACityDatabase()
    {
        var path = Candor.TestSupport.RepositoryPaths.GeoIpTestDatabase;
        using var geo = new GeoLocator(new CollectorOptions { GeoIpDatabase = path });

        Assert.Equal(new GeoLocation("GB", "ENG"), geo.Locate(IPAddress.Parse("81.2.69.142")));
        Assert.Equal(new GeoLocation("SE", null), geo.Locate(IPAddress.Parse("89.160.20.112")) with { Region = null });
        Assert.Equal(default, geo.Locate(IPAddress.Loopback));
    }
}
