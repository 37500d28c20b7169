using Candor.Collector.Analytics;
using Candor.Collector.Storage.DuckDb;
using Candor.Collector.Tests.Analytics;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>The analytics contract on a real DuckDB file, seeded once for the class; installs counted with bitmaps.</summary>
public sealed class DuckDbAnalyticsStoreTests : AnalyticsStoreContractTests, IClassFixture<DuckDbAnalyticsStoreTests.Seeded>
{
    private readonly Seeded _seeded;

    public DuckDbAnalyticsStoreTests(Seeded seeded) => _seeded = seeded;

    private protected override Task<IAnalyticsStore> StoreAsync() => _seeded.StoreAsync();

    public class Seeded : IDisposable
    {
        /// <summary>The most installs the store counts with bitmaps.</summary>
        private protected virtual int BitmapInstallLimit => 1 << 20;

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
                    _store = new DuckDbAnalyticsStore(path, bitmapInstallLimit: BitmapInstallLimit);
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
            GC.SuppressFinalize(this);
        }
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
