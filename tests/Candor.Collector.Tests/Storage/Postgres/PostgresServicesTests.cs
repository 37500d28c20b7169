using Candor.Collector.Analytics;
using Candor.Collector.Storage.Postgres;
using Candor.Collector.Tests.Analytics;

namespace Candor.Collector.Tests.Storage.Postgres;

/// <summary>The Services contract on a real PostgreSQL server, written through the real store.</summary>
[Collection("postgres")]
public sealed class PostgresServicesTests : ServicesStoreContractTests, IClassFixture<PostgresServicesTests.Seeded>
{
    private readonly PostgresFixture _postgres;
    private readonly Seeded _seeded;

    public PostgresServicesTests(PostgresFixture postgres, Seeded seeded)
    {
        _postgres = postgres;
        _seeded = seeded;
    }

    private protected override Task<IAnalyticsStore> StoreAsync() => _seeded.StoreAsync(_postgres);

    public sealed class Seeded : SeededPostgresStore
    {
        private protected override async Task SeedAsync(string connectionString)
        {
            await using var events = new PostgresEventStore(connectionString);
            await events.InitializeAsync(CancellationToken.None);
            await events.WriteAsync(ServicesSeed.Events(End), [], CancellationToken.None);
        }
    }
}
