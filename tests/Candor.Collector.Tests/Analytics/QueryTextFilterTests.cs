using System.Net;
using System.Net.Http.Headers;

namespace Candor.Collector.Tests.Analytics;

public sealed class QueryTextFilterTests
{
    [Theory]
    [InlineData("/v1/admin/events?product=ac%00me")]
    [InlineData("/v1/admin/quarantine?product=ac%00me")]
    [InlineData("/v1/admin/analytics/summary?product=acme&os=li%00nux")]
    [InlineData("/v1/admin/analytics/live?product=ac%00me")]
    [InlineData("/v1/admin/analytics/quarantine?product=ac%00me")]
    public async Task AQueryHoldingUPlus0000IsAnswered400OnEveryAdminAndAnalyticsRoute(string path)
    {
        await using var collector = await TestCollector.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestCollector.AdminToken);

        using var response = await collector.Http.SendAsync(request);

        await Ingestion.IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_query");
    }
}
