using Candor.Collector.Analytics;
using Candor.Collector.Tests.Analytics;

namespace Candor.Collector.Tests.Storage.Postgres;

/// <summary>The analytics contract on a real PostgreSQL server (the shared throwaway one), seeded
/// once for the class into its own database.</summary>
[Collection("postgres")]
public sealed class PostgresAnalyticsStoreTests : AnalyticsStoreContractTests, IClassFixture<PostgresAnalyticsStoreTests.Seeded>
{
    private readonly PostgresFixture _postgres;
    private readonly Seeded _seeded;

    public PostgresAnalyticsStoreTests(PostgresFixture postgres, Seeded seeded)
    {
        _postgres = postgres;
        _seeded = seeded;
    }

    private protected override Task<IAnalyticsStore> StoreAsync() => _seeded.StoreAsync(_postgres);

    public sealed class Seeded : SeededPostgresStore
    {
        private protected override Task SeedAsync(string connectionString) =>
            PostgresAnalyticsSeeder.SeedAsync(connectionString, AnalyticsSeed.Events(Now));
    }
}
