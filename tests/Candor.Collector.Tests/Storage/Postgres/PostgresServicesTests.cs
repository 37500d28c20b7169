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
                    await using (var events = new PostgresEventStore(connectionString))
                    {
                        await events.InitializeAsync(CancellationToken.None);
                        await events.WriteAsync(ServicesSeed.Events(End), [], CancellationToken.None);
                    }

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
