using System.Net;
using System.Net.Http.Headers;
using Candor.Collector.Operations;

namespace Candor.Collector.Tests.Operations;

public sealed class RefusalMetricsTests
{
    [Fact]
    public async Task AWrongAdminTokenAndABadAnalyticsQueryAreCountedAsAdminRefusalsNotAsRefusedIngest()
    {
        await using var collector = await TestCollector.StartAsync();
        var ingestBefore = CollectorMetrics.RequestsRefused.WithLabels("invalid_admin_token").Value + CollectorMetrics.RequestsRefused.WithLabels("invalid_query").Value;
        var tokenBefore = CollectorMetrics.AdminRequestsRefused.WithLabels("invalid_admin_token").Value;
        var queryBefore = CollectorMetrics.AdminRequestsRefused.WithLabels("invalid_query").Value;

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/events?product=acme"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-admin-token-at-all");
            using var response = await collector.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/analytics/summary?product=acme&from=yesterday"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestCollector.AdminToken);
            using var response = await collector.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        Assert.True(CollectorMetrics.AdminRequestsRefused.WithLabels("invalid_admin_token").Value >= tokenBefore + 1);
        Assert.True(CollectorMetrics.AdminRequestsRefused.WithLabels("invalid_query").Value >= queryBefore + 1);
        Assert.Equal(ingestBefore, CollectorMetrics.RequestsRefused.WithLabels("invalid_admin_token").Value + CollectorMetrics.RequestsRefused.WithLabels("invalid_query").Value);
    }
}
