using System.Text.Json;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Demo;

/// <summary><c>candor serve --demo</c> as a real process over an empty DuckDB store.</summary>
public sealed class DemoTrafficTests
{
    private static readonly TimeSpan DemoTimeout = TimeSpan.FromMinutes(3);

    private static string GeoIpDatabase =>
        RepositoryPaths.GeoIpTestDatabase;

    [Fact]
    public async Task ServeDemoFillsAnEmptyStoreOnceWithTrafficEveryAnalyticsAnswerShows()
    {
        using var data = new TemporaryDirectory("candor-demo");
        using var schemas = new TemporaryDirectory("candor-demo-schemas");
        var environment = new Dictionary<string, string?>
        {
            // No schema files at all: the demo brings its catalog's schemas.
            ["Candor__SchemaDirectory"] = schemas.Path,
            ["Candor__GeoIpDatabase"] = GeoIpDatabase,
        };
        var range = $"product=acme&from={DateTime.UtcNow.AddDays(-90):yyyy-MM-dd}&to={DateTime.UtcNow:yyyy-MM-dd}";

        long events;
        await using (var collector = await CollectorProcess.StartAsync(data.Path, environment, ["--demo"]))
        {
            await collector.WaitForOutputAsync("Demo: stored", DemoTimeout);
            using var http = collector.CreateAdminClient();
            async Task<JsonElement> GetAsync(string path) =>
                JsonDocument.Parse(await http.GetStringAsync("/v1/admin/analytics" + path)).RootElement.Clone();
            async Task<string[]> LabelsAsync(string path) =>
                [.. (await GetAsync(path)).EnumerateArray().Select(r => r.GetProperty("label").GetString()!).Where(l => l != "other")];

            var summary = await GetAsync("/summary?" + range);
            events = summary.GetProperty("events").GetInt64();
            Assert.InRange(summary.GetProperty("installs").GetInt64(), 150, 300);
            Assert.InRange(events, 10_000, 60_000);
            Assert.InRange(summary.GetProperty("failure_rate").GetDouble(), 0.02, 0.3);

            // Located through the real enrichment with the configured GeoIP database.
            Assert.Superset(new HashSet<string> { "US", "DE", "GB", "FR", "JP" }, (await LabelsAsync("/breakdown/country?" + range)).ToHashSet());
            Assert.Superset(new HashSet<string> { "1.2.0", "1.3.0", "1.4.0" }, (await LabelsAsync("/breakdown/version?" + range)).ToHashSet());
            Assert.True((await LabelsAsync("/breakdown/initial-version?" + range)).Length >= 3);
            Assert.Superset(new HashSet<string> { "linux", "windows", "macos" }, (await LabelsAsync("/breakdown/os-family?" + range)).ToHashSet());
            Assert.Superset(new HashSet<string> { "none", "github-actions" }, (await LabelsAsync("/breakdown/ci-name?" + range)).ToHashSet());
            Assert.Contains("http_503", await LabelsAsync("/breakdown/error-code?" + range));

            var commands = (await GetAsync("/commands?" + range)).EnumerateArray().ToList();
            Assert.Superset(new HashSet<string> { "run", "build", "test", "deploy" }, commands.Select(c => c.GetProperty("command").GetString()!).ToHashSet());
            Assert.All(commands.Where(c => c.GetProperty("command").GetString() is "run" or "deploy"), c => Assert.True(c.GetProperty("failures").GetInt64() > 0));
            Assert.Contains("load_source", (await GetAsync("/operations?" + range)).EnumerateArray().Select(o => o.GetProperty("command").GetString()));
            var rows = await GetAsync("/numeric?event=pipeline_run&property=rows&" + range);
            Assert.True(rows.GetProperty("count").GetInt64() > 1000);

            var retention = await GetAsync("/retention?" + range);
            Assert.InRange(retention.GetProperty("share7").GetDouble(), 0.2, 0.95);
            Assert.True((await GetAsync("/live?product=acme")).GetProperty("instances").GetInt64() >= 5);
            // The 2.0 preview's new event has no schema on the collector: quarantined, with the reason.
            var quarantine = await GetAsync("/quarantine?" + range);
            Assert.True(quarantine.GetProperty("total").GetInt64() > 0);
            Assert.Equal("unknown_schema", quarantine.GetProperty("by_reason")[0].GetProperty("label").GetString());

            // The second product, a service: live instances, its routes by use, its coded errors; the tool is not one.
            var services = await GetAsync("/services?" + range.Replace("product=acme", "product=acme-server", StringComparison.Ordinal));
            Assert.InRange(services.GetProperty("instances").GetProperty("live").GetInt64(), 5, 7);
            // Route templates arrive as declared (verbatim strings: the redactor would read /items/{id} as a path).
            var routes = services.GetProperty("routes").EnumerateArray().ToList();
            Assert.True(routes.Sum(r => r.GetProperty("requests").GetInt64()) > 10_000);
            Assert.Equal(["/health GET", "/items/{id} GET"], routes.Take(2).Select(r => $"{r.GetProperty("route").GetString()} {r.GetProperty("method").GetString()}"));
            Assert.Contains("import_too_large", services.GetProperty("http_errors").EnumerateArray().Select(r => r.GetProperty("error_code").GetString()));
            Assert.Contains("InvalidOperationException", services.GetProperty("http_errors").EnumerateArray().Select(r => r.GetProperty("error_code").GetString()));
            Assert.Equal(0, (await GetAsync("/services?" + range)).GetProperty("events").GetInt64());

            // What the SDK did on the way: arguments masked, no path or token left.
            var stored = await collector.ReadEventsAsync(limit: 5000);
            var arguments = stored.Where(e => e.GetProperty("name").GetString() == "command")
                .Select(e => e.GetProperty("properties").GetProperty("arguments").GetString()!).ToList();
            Assert.Contains("deploy --env ***** --token *****", arguments);
            Assert.DoesNotContain(arguments, a => a.Contains("/home", StringComparison.Ordinal) || a.Contains("ghp_", StringComparison.Ordinal));
        }

        await using (var again = await CollectorProcess.StartAsync(data.Path, environment, ["--demo"]))
        {
            await again.WaitForOutputAsync("Demo: the store already holds events", DemoTimeout);
            using var http = again.CreateAdminClient();
            var summary = JsonDocument.Parse(await http.GetStringAsync("/v1/admin/analytics/summary?" + range)).RootElement;
            Assert.Equal(events, summary.GetProperty("events").GetInt64());
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(schemas.Path));
    }
}
