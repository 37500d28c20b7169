using Candor.Collector.Analytics;
using Candor.Collector.Storage.DuckDb;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>A class fixture: an analytics store over a DuckDB file of its own, seeded once (by
/// <see cref="SeedAsync"/>) on the first test that asks for it.</summary>
public abstract class SeededDuckDbStore : IDisposable
{
    private readonly TemporaryDirectory _directory = new("candor-analytics");
    private readonly SemaphoreSlim _gate = new(1, 1);
    private DuckDbAnalyticsStore? _store;

    /// <summary>The most installs the store counts with bitmaps.</summary>
    private protected virtual int BitmapInstallLimit => 1 << 20;

    internal async Task<IAnalyticsStore> StoreAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_store is null)
            {
                var path = _directory.Combine("candor.duckdb");
                await SeedAsync(path);
                _store = new DuckDbAnalyticsStore(path, bitmapInstallLimit: BitmapInstallLimit);
            }

            return _store;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Writes the class's events into the new file.</summary>
    private protected abstract Task SeedAsync(string path);

    public void Dispose()
    {
        _store?.Dispose();
        _gate.Dispose();
        _directory.Dispose();
        GC.SuppressFinalize(this);
    }
}
