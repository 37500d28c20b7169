using Candor.Consent;
using Candor.Hosting;

namespace Candor.Tests.Consent;

/// <summary>Clients whose consent the test decides, so delivery tests neither depend on nor change
/// the consent files of the machine running them.</summary>
internal static class ConsentedClients
{
    public static CandorClient Anonymous(CandorOptions options)
    {
        Assert.Empty(options.Validate());
        return new CandorClient(options, new ConsentDecision(TelemetryLevel.Anonymous, "test", Guid.NewGuid()), SystemEnvironment.Instance, TimeProvider.System);
    }
}
