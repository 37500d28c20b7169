using Candor.Collector.Tests.Analytics;

namespace Candor.Collector.Tests.Storage.Postgres;

/// <summary>The viewer's k-anonymity (see <see cref="ViewerKAnonymityTests"/>) on PostgreSQL storage.</summary>
[Collection("postgres")]
public sealed class PostgresViewerKAnonymityTests(PostgresFixture postgres)
{
    [Fact]
    public async Task NoViewerAnswerOnPostgreSqlHoldsAFigureFromFewerThanKInstallsOrAnInstallId()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await PostgresAnalyticsSeeder.SeedAsync(connectionString, ViewerSeed.Events(DateTime.UtcNow));

        await using var collector = await TestCollector.StartAsync(settings:
            ["--Candor:Storage=postgres", $"--Candor:ConnectionString={connectionString}", $"--Candor:ViewerToken={ViewerChecks.ViewerToken}"]);

        await ViewerChecks.AssertEveryAnswerIsKAnonymousAsync(collector);
    }
}
