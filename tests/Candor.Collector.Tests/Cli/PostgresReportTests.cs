using Candor.Collector.Tests.Analytics;
using Candor.Collector.Tests.Storage.Postgres;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Cli;

/// <summary><c>candor report --connection-string</c> as a real process over a seeded PostgreSQL database.</summary>
[Collection("postgres")]
public sealed class PostgresReportTests(PostgresFixture postgres)
{
    private static readonly string Candor = RepositoryPaths.ProgramAssembly("Candor.Collector", "Candor.Collector.dll");

    [Fact]
    public async Task ReportPrintsTheSameKeyFiguresFromPostgreSqlAsFromDuckDb()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await PostgresAnalyticsSeeder.SeedAsync(connectionString, AnalyticsSeed.Events(DateTime.UtcNow));

        var result = await ProgramProcess.RunAsync(Candor,
            ["report", "--connection-string", connectionString, "--product", "acme", "--from", "2026-10-01", "--to", "2026-11-20"],
            Path.GetTempPath(), timeout: TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 0, result.StandardError);
        var lines = result.StandardOutput.Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList();
        Assert.Contains("Active installs 12", lines);
        Assert.Contains("Command runs 26", lines);
        Assert.Contains("Still active after 7 days 58.3%", lines);
        Assert.Contains("run 19 12 0.0% 100 100", lines);
        Assert.Contains("new 6 6 33.3% 300 300", lines);
        Assert.Contains("linux 6 24", lines);
        Assert.DoesNotContain("macos", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-cmd", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableServerIsAClearError()
    {
        var result = await ProgramProcess.RunAsync(Candor,
            ["report", "--connection-string", "Host=127.0.0.1;Port=1;Username=postgres;Timeout=3"], Path.GetTempPath(), timeout: TimeSpan.FromSeconds(60));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Could not read from PostgreSQL", result.StandardError, StringComparison.Ordinal);
    }
}
