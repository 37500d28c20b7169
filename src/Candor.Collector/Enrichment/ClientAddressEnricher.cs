using System.Net;

namespace Candor.Collector.Enrichment;

/// <summary>Derives what the collector keeps from a client address: country, region and, when
/// enabled, a daily pseudonym. The address itself is never returned, stored or logged.</summary>
internal sealed class ClientAddressEnricher(GeoLocator geo, IpPseudonymizer pseudonymizer, CollectorOptions options)
{
    public ClientFacts Describe(IPAddress? address)
    {
        if (address is null)
        {
            return default;
        }

        var location = geo.Locate(address);
        return new ClientFacts(location.Country, location.Region, options.PseudonymizeIp ? pseudonymizer.Pseudonymize(address) : null);
    }
}
