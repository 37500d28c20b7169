using System.Net;
using MaxMind.GeoIP2;

namespace Candor.Collector.Enrichment;

/// <summary>Country and region of an address.</summary>
internal readonly record struct GeoLocation(string? Country, string? Region);

/// <summary>Looks addresses up in a MaxMind GeoIP2/GeoLite2 City or Country database, held in memory.</summary>
internal sealed class GeoLocator : IDisposable
{
    private readonly DatabaseReader? _reader;
    private readonly bool _city;

    public GeoLocator(CollectorOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.GeoIpDatabase))
        {
            return;
        }

        _reader = new DatabaseReader(options.GeoIpDatabase, MaxMind.Db.FileAccessMode.Memory);
        _city = _reader.Metadata.DatabaseType.Contains("City", StringComparison.OrdinalIgnoreCase);
    }

    public bool IsEnabled => _reader is not null;

    public GeoLocation Locate(IPAddress address)
    {
        if (_reader is null)
        {
            return default;
        }

        if (_city)
        {
            return _reader.TryCity(address, out var city) && city is not null
                ? new GeoLocation(city.Country.IsoCode, city.MostSpecificSubdivision.IsoCode)
                : default;
        }

        return _reader.TryCountry(address, out var country) && country is not null
            ? new GeoLocation(country.Country.IsoCode, null)
            : default;
    }

    public void Dispose() => _reader?.Dispose();
}
