using Candor.Collector.Analytics;
using Candor.Collector.Storage.Postgres;
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

    public sealed class Seeded : IDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private PostgresAnalyticsStore? _store;

        internal async Task<IAnalyticsStore> StoreAsync(PostgresFixture postgres)
        {
            await _gate.WaitAsync();
            try
            {
                if (_store is null)
                {
                    var connectionString = await postgres.Server.CreateDatabaseAsync();
                    await PostgresAnalyticsSeeder.SeedAsync(connectionString, AnalyticsSeed.Events(Now));
                    _store = new PostgresAnalyticsStore(connectionString);
                }

                return _store;
            }
            finally
            {
                _gate.Release();
            }
        }

        public void Dispose()
        {
            _store?.Dispose();
            _gate.Dispose();
        }
    }
}
