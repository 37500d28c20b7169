using Candor.Collector.Analytics;
using Candor.Collector.Storage.DuckDb;
using Candor.Collector.Tests.Analytics;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>The Services contract on a real DuckDB file, written through the real store.</summary>
public sealed class DuckDbServicesTests : ServicesStoreContractTests, IClassFixture<DuckDbServicesTests.Seeded>
{
    private readonly Seeded _seeded;

    public DuckDbServicesTests(Seeded seeded) => _seeded = seeded;

    private protected override Task<IAnalyticsStore> StoreAsync() => _seeded.StoreAsync();

    public sealed class Seeded : IDisposable
    {
        private readonly TemporaryDirectory _directory = new("candor-services");
        private readonly SemaphoreSlim _gate = new(1, 1);
        private DuckDbAnalyticsStore? _store;

        internal async Task<IAnalyticsStore> StoreAsync()
        {
            await _gate.WaitAsync();
            try
            {
                if (_store is null)
                {
                    var path = _directory.Combine("candor.duckdb");
                    await DuckDbServicesSeeder.SeedAsync(path, End);
                    _store = new DuckDbAnalyticsStore(path);
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
            _directory.Dispose();
        }
    }
}
