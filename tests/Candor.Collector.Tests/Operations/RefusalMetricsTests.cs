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
        var ingestBefore = CollectorMetrics.IngestRequestsRefused.WithLabels("invalid_admin_token").Value + CollectorMetrics.IngestRequestsRefused.WithLabels("invalid_query").Value;
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
        Assert.Equal(ingestBefore, CollectorMetrics.IngestRequestsRefused.WithLabels("invalid_admin_token").Value + CollectorMetrics.IngestRequestsRefused.WithLabels("invalid_query").Value);
    }

    [Fact]
    public async Task ARefusedIngestRequestIsCountedAsRefusedIngestNotAsAnAdminRefusal()
    {
        await using var collector = await TestCollector.StartAsync();
        var ingestBefore = CollectorMetrics.IngestRequestsRefused.WithLabels("missing_write_key").Value;
        // No admin, analytics or dashboard call answers this code: any count of it there is ingest's.
        var adminBefore = CollectorMetrics.AdminRequestsRefused.WithLabels("missing_write_key").Value;

        using var response = await collector.PostAsync(TestCollector.Batch(), writeKey: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.True(CollectorMetrics.IngestRequestsRefused.WithLabels("missing_write_key").Value >= ingestBefore + 1);
        Assert.Equal(adminBefore, CollectorMetrics.AdminRequestsRefused.WithLabels("missing_write_key").Value);
    }
}
