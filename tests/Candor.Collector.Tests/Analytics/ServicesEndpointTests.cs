using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Candor.Collector.Tests.Ingestion;
using Candor.Collector.Tests.Storage.DuckDb;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Analytics;

/// <summary><c>GET /v1/admin/analytics/services</c> on a running collector over a seeded store.</summary>
public sealed class ServicesEndpointTests
{
    [Fact]
    public async Task TheServicesAnswerIsJsonBehindTheAdminTokenWithTheConfiguredK()
    {
        using var data = new TemporaryDirectory("candor-services-api");
        await DuckDbServicesSeeder.SeedAsync(Path.Combine(data.Path, "candor.duckdb"), DateTime.UtcNow);
        await using var collector = await TestCollector.StartAsync(data.Path, configureKeys: true, settings: ["--Candor:Analytics:MinimumGroupSize=3"]);
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var yesterday = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var path = $"/v1/admin/analytics/services?product=acme-server&from={yesterday}&to={today}";

        using (var refused = await collector.Http.GetAsync(path))
        {
            await IngestEndpointTests.AssertErrorAsync(refused, HttpStatusCode.Unauthorized, "invalid_admin_token");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestCollector.AdminToken);
        using var response = await collector.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;

        // The range ends tomorrow, but live instances are judged now.
        Assert.Equal(2, root.GetProperty("instances").GetProperty("live").GetInt64());
        Assert.Equal(1000, root.GetProperty("instances").GetProperty("startup_p50_ms").GetDouble());
        var import = root.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("route").GetString() == "/import");
        Assert.Equal(("POST", 8L, 0.5, ">10000"), (import.GetProperty("method").GetString(), import.GetProperty("requests").GetInt64(),
            import.GetProperty("error_rate").GetDouble(), import.GetProperty("p95_ms").GetString()));
        Assert.Equal("curl/8", root.GetProperty("clients")[0].GetProperty("label").GetString());

        // The filters apply as everywhere: no install runs 9.9.9.
        using var filtered = new HttpRequestMessage(HttpMethod.Get, path + "&version=9.9.9");
        filtered.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestCollector.AdminToken);
        using var none = await collector.Http.SendAsync(filtered);
        using var noneBody = JsonDocument.Parse(await none.Content.ReadAsStringAsync());
        Assert.Equal(0, noneBody.RootElement.GetProperty("events").GetInt64());
    }
}
