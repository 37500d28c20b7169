using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Candor.Collector.Tests.Ingestion;
using Candor.Collector.Tests.Storage.DuckDb;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Analytics;

public sealed class AnalyticsEndpointsTests
{
    private const string Range = "product=acme&from=2026-10-01&to=2026-11-20";

    [Fact]
    public async Task AnalyticsRefuseRequestsWithoutTheAdminToken()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.Http.GetAsync($"/v1/admin/analytics/summary?{Range}");

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_admin_token");
    }

    [Theory]
    [InlineData("/summary?from=2026-10-01")]
    [InlineData("/summary?product=acme&from=yesterday")]
    [InlineData("/summary?product=acme&from=2026-11-02&to=2026-11-01")]
    [InlineData("/summary?product=acme&ci=maybe")]
    [InlineData("/breakdown/shoe-size?product=acme")]
    [InlineData("/numeric?product=acme&event=command&property=a;drop")]
    public async Task AnInvalidQueryIs400WithACode(string pathAndQuery)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await GetAsync(collector, pathAndQuery);

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_query");
    }

    [Fact]
    public async Task EveryAnswerFoldsSmallGroupsWithTheConfiguredK()
    {
        using var data = new TemporaryDirectory("candor-analytics-api");
        await DuckDbAnalyticsSeeder.SeedAsync(Path.Combine(data.Path, "candor.duckdb"), AnalyticsSeed.Events(DateTime.UtcNow));

        await using (var strict = await TestCollector.StartAsync(data.Path, configureKeys: true, settings: ["--Candor:Analytics:MinimumGroupSize=6"]))
        {
            // k = 6: windows (5 installs) and macos (1) fold together.
            Assert.Equal("linux:6,other:6", await OsBreakdownAsync(strict));
        }

        await using var lenient = await TestCollector.StartAsync(data.Path, configureKeys: true, settings: ["--Candor:Analytics:MinimumGroupSize=2"]);
        // k = 2: macos (1 install) still folds.
        Assert.Equal("linux:6,windows:5,other:1", await OsBreakdownAsync(lenient));
    }

    [Fact]
    public async Task AKBelowTwoIsRefusedAtStartup()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestCollector.StartAsync(null, true, settings: ["--Candor:Analytics:MinimumGroupSize=1"]));

        Assert.Contains("MinimumGroupSize", error.Message, StringComparison.Ordinal);
    }

    private static async Task<string> OsBreakdownAsync(TestCollector collector)
    {
        using var response = await GetAsync(collector, $"/breakdown/os-family?{Range}");
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return string.Join(",", body.RootElement.EnumerateArray().Select(r => $"{r.GetProperty("label").GetString()}:{r.GetProperty("installs").GetInt64()}"));
    }

    private static async Task<HttpResponseMessage> GetAsync(TestCollector collector, string pathAndQuery)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/analytics" + pathAndQuery);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestCollector.AdminToken);
        return await collector.Http.SendAsync(request);
    }
}
