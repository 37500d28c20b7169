using Candor.Collector.Analytics;
using Candor.Collector.Tests.Analytics;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>The Services contract on a real DuckDB file, written through the real store.</summary>
public sealed class DuckDbServicesTests : ServicesStoreContractTests, IClassFixture<DuckDbServicesTests.Seeded>
{
    private readonly Seeded _seeded;

    public DuckDbServicesTests(Seeded seeded) => _seeded = seeded;

    private protected override Task<IAnalyticsStore> StoreAsync() => _seeded.StoreAsync();

    public sealed class Seeded : SeededDuckDbStore
    {
        private protected override Task SeedAsync(string path) => DuckDbServicesSeeder.SeedAsync(path, End);
    }
}
