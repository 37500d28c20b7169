using System.Net.Http.Headers;
using System.Text.Json;
using Candor.Collector.Tests.Analytics;

namespace Candor.Collector.Tests.Storage.Postgres;

/// <summary>The analytics API of a collector running on PostgreSQL storage.</summary>
[Collection("postgres")]
public sealed class PostgresAnalyticsEndpointsTests(PostgresFixture postgres)
{
    [Fact]
    public async Task TheAnalyticsApiAnswersFromPostgreSqlWithTheConfiguredK()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await PostgresAnalyticsSeeder.SeedAsync(connectionString, AnalyticsSeed.Events(DateTime.UtcNow));

        await using var collector = await TestCollector.StartAsync(settings:
            ["--Candor:Storage=postgres", $"--Candor:ConnectionString={connectionString}", "--Candor:Analytics:MinimumGroupSize=6"]);

        // k = 6: windows (5 installs) and macos (1) fold together.
        using var breakdown = await GetJsonAsync(collector, "/breakdown/os-family?product=acme&from=2026-10-01&to=2026-11-20");
        Assert.Equal("linux:6,other:6", string.Join(",", breakdown.RootElement.EnumerateArray()
            .Select(r => $"{r.GetProperty("label").GetString()}:{r.GetProperty("installs").GetInt64()}")));
        using var summary = await GetJsonAsync(collector, "/summary?product=acme&from=2026-10-01&to=2026-10-31");
        Assert.Equal(6, summary.RootElement.GetProperty("installs").GetInt64());
        using var products = await GetJsonAsync(collector, "/products");
        Assert.Equal(["acme", "beta"], products.RootElement.EnumerateArray().Select(p => p.GetString()));
    }

    private static async Task<JsonDocument> GetJsonAsync(TestCollector collector, string pathAndQuery)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/analytics" + pathAndQuery);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestCollector.AdminToken);
        using var response = await collector.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }
}
