using Candor.Collector.Analytics;
using Candor.Collector.Storage.DuckDb;
using Candor.Collector.Tests.Analytics;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>A DuckDB file from a collector older than the cloud and container columns is upgraded when opened.</summary>
public sealed class DuckDbContextColumnsTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new("candor-duckdb-context");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task AFileWithoutTheCloudColumnsGetsThemInTheOrderANewFileHasAndStoresAndAnswersWithThem()
    {
        var older = _directory.Combine("older.duckdb");
        var fresh = _directory.Combine("fresh.duckdb");
        var seed = AnalyticsSeed.Events(DateTime.UtcNow);
        await DuckDbAnalyticsSeeder.SeedAsync(older, seed, upgrade: false);
        Assert.DoesNotContain("cloud_region", Columns(older));
        var located = EventStoreContract.Record("acme");
        (located.Context.Cloud, located.Context.CloudRegion, located.Context.Container) = ("azure", "westeurope", "kubernetes");

        await using (var store = new DuckDbEventStore(older))
        {
            await store.InitializeAsync(CancellationToken.None);
            await store.WriteAsync([located], [], CancellationToken.None);
            var newest = (await store.ReadRecentAsync("acme", 1000, CancellationToken.None)).ToDictionary(e => e.Id);
            Assert.Equal(
                ("azure", "westeurope", "kubernetes"),
                (newest[located.Id].Context.Cloud, newest[located.Id].Context.CloudRegion, newest[located.Id].Context.Container));
            Assert.All(newest.Values.Where(e => e.Id != located.Id), e => Assert.Null(e.Context.CloudRegion));
        }

        await using (var store = new DuckDbEventStore(fresh))
        {
            await store.InitializeAsync(CancellationToken.None);
        }

        // The appender writes a row in the table's column order: an upgraded file must match a new one.
        Assert.Equal(Columns(fresh), Columns(older));
        using var analytics = new DuckDbAnalyticsStore(older);
        var query = new AnalyticsQuery("acme", DateTimeOffset.UtcNow.AddYears(-2), DateTimeOffset.UtcNow.AddDays(1));
        var rows = await analytics.BreakdownAsync(query, Dimension.CloudRegion, 1, CancellationToken.None);
        Assert.Equal(
            [("unknown", seed.Where(e => e.Product == "acme").Select(e => e.InstallId).Distinct().Count()), ("westeurope", 1)],
            rows.Select(r => (r.Label, (int)r.Installs)));
    }

    private static List<string> Columns(string databasePath) => DuckDbRows.Read(databasePath,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'events' ORDER BY ordinal_position", r => r.GetString(0));
}
