using Candor.Collector.Analytics;
using Candor.Collector.Storage.Postgres;

namespace Candor.Collector.Tests.Storage.Postgres;

/// <summary>A class fixture: an analytics store over its own database on the shared throwaway server,
/// seeded once (by <see cref="SeedAsync"/>) on the first test that asks for it.</summary>
public abstract class SeededPostgresStore : IDisposable
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
                await SeedAsync(connectionString);
                _store = new PostgresAnalyticsStore(connectionString);
            }

            return _store;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Writes the class's events into the new database.</summary>
    private protected abstract Task SeedAsync(string connectionString);

    public void Dispose()
    {
        _store?.Dispose();
        _gate.Dispose();
        GC.SuppressFinalize(this);
    }
}
