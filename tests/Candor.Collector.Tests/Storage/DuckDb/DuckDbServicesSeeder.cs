using Candor.Collector.Storage.DuckDb;
using Candor.Collector.Tests.Analytics;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>Writes <see cref="ServicesSeed"/> through the real DuckDB event store (journal and applier).</summary>
internal static class DuckDbServicesSeeder
{
    public static async Task SeedAsync(string path, DateTime end)
    {
        await using var store = new DuckDbEventStore(path);
        await store.InitializeAsync(CancellationToken.None);
        await store.WriteAsync(ServicesSeed.Events(end), [], CancellationToken.None);
        await store.WaitForStoredAsync(CancellationToken.None);
    }
}
