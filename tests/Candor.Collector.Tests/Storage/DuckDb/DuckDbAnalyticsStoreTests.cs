using Candor.Collector.Analytics;
using Candor.Collector.Tests.Analytics;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>The analytics contract on a real DuckDB file, seeded once for the class; installs counted with bitmaps.</summary>
public sealed class DuckDbAnalyticsStoreTests : AnalyticsStoreContractTests, IClassFixture<DuckDbAnalyticsStoreTests.Seeded>
{
    private readonly Seeded _seeded;

    public DuckDbAnalyticsStoreTests(Seeded seeded) => _seeded = seeded;

    private protected override Task<IAnalyticsStore> StoreAsync() => _seeded.StoreAsync();

    public class Seeded : SeededDuckDbStore
    {
        private protected override Task SeedAsync(string path) => DuckDbAnalyticsSeeder.SeedAsync(path, AnalyticsSeed.Events(Now));
    }
}

/// <summary>The same contract with every install count as count(DISTINCT), the form for more installs than bitmaps suit.</summary>
public sealed class DuckDbAnalyticsStoreWithoutBitmapsTests : AnalyticsStoreContractTests, IClassFixture<DuckDbAnalyticsStoreWithoutBitmapsTests.SeededWithoutBitmaps>
{
    private readonly SeededWithoutBitmaps _seeded;

    public DuckDbAnalyticsStoreWithoutBitmapsTests(SeededWithoutBitmaps seeded) => _seeded = seeded;

    private protected override Task<IAnalyticsStore> StoreAsync() => _seeded.StoreAsync();

    public sealed class SeededWithoutBitmaps : DuckDbAnalyticsStoreTests.Seeded
    {
        private protected override int BitmapInstallLimit => 0;
    }
}
