using Candor.Collector.Tests.Analytics;
using Candor.Collector.Tests.Storage.DuckDb;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Cli;

/// <summary><c>candor report</c>'s Services section, from a real process over a seeded DuckDB file.</summary>
public sealed class ServicesReportTests
{
    private static readonly string Candor = RepositoryPaths.ProgramAssembly("Candor.Collector", "Candor.Collector.dll");

    [Fact]
    public async Task ReportShowsTheServicesSectionForAProductThatSentServiceEvents()
    {
        using var directory = new TemporaryDirectory("candor-cli-services");
        var path = directory.Combine("candor.duckdb");
        var now = DateTime.UtcNow;
        await DuckDbServicesSeeder.SeedAsync(path, now);
        var from = DateOnly.FromDateTime(now.AddDays(-1)).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var result = await ProgramProcess.RunAsync(Candor, ["report", "--database", path, "--product", ServicesSeed.Product, "--from", from],
            Path.GetTempPath(), new Dictionary<string, string?> { ["Candor__Analytics__MinimumGroupSize"] = "3" }, TimeSpan.FromSeconds(60));

        Assert.Equal(0, result.ExitCode);
        var lines = result.StandardOutput.Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList();
        Assert.Contains("Live instances 2", lines);
        Assert.Contains("Instances started 5", lines);
        Assert.Contains("Startup p50 ms 1000", lines);
        Assert.Contains("Startup p95 ms 4240", lines);
        Assert.Contains("Uptime p50 s 5400", lines);
        Assert.Contains("/items/{id} GET 20 10.0% 5 100", lines);
        Assert.Contains("/import POST 8 50.0% 1000 >10000", lines);
        Assert.Contains("other 105 4.8% 1 1", lines);
        Assert.Contains("import_too_large 413 4 3", lines);
        Assert.Contains("curl/8 15 3", lines);
        Assert.Contains("en 15 3", lines);
        Assert.DoesNotContain("/secret", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("secret_failure", result.StandardOutput, StringComparison.Ordinal);
    }
}
