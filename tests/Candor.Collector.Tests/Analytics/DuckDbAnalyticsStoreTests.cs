using Candor.Collector.Analytics;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Analytics;

/// <summary>The analytics contract on a real DuckDB file, seeded once for the class.</summary>
public sealed class DuckDbAnalyticsStoreTests : AnalyticsStoreContractTests, IClassFixture<DuckDbAnalyticsStoreTests.Seeded>
{
    private readonly Seeded _seeded;

    public DuckDbAnalyticsStoreTests(Seeded seeded) => _seeded = seeded;

    private protected override Task<IAnalyticsStore> StoreAsync() => _seeded.StoreAsync();

    public sealed class Seeded : IDisposable
    {
        private readonly TemporaryDirectory _directory = new("candor-analytics");
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
                    await DuckDbAnalyticsSeeder.SeedAsync(path, AnalyticsSeed.Events(Now));
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
