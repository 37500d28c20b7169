using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Candor.Collector.Tests.Ingestion;

namespace Candor.Collector.Tests.Admin;

public sealed class QuarantineSummaryEndpointTests
{
    [Fact]
    public async Task TheQuarantineSummaryCountsEventsRejectedAtIngestByReasonAndSchema()
    {
        await using var collector = await TestCollector.StartAsync();
        var batch = TestCollector.BatchOf("acme",
            TestCollector.Event(Guid.CreateVersion7()),
            TestCollector.Event(Guid.CreateVersion7(), properties: """{"command":"run","exit_code":0,"duration_ms":3,"path":"/home/a"}"""),
            TestCollector.Event(Guid.CreateVersion7(), properties: """{"command":"run","exit_code":0,"duration_ms":3,"user":"b"}"""),
            TestCollector.Event(Guid.CreateVersion7(), name: "teleport"));
        (await collector.PostAsync(batch)).EnsureSuccessStatusCode();
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        using var response = await GetAsync(collector, $"/v1/admin/analytics/quarantine?product=acme&from={today}&to={today}");

        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        string Counts(string member) => string.Join(",", body.RootElement.GetProperty(member).EnumerateArray()
            .Select(r => $"{r.GetProperty("label").GetString()}:{r.GetProperty("events").GetInt64()}"));
        Assert.Equal(3, body.RootElement.GetProperty("total").GetInt64());
        Assert.Equal("undeclared_property:2,unknown_schema:1", Counts("by_reason"));
        Assert.Equal("acme/command/1-0-0:2,acme/teleport/latest:1", Counts("by_schema"));
    }

    [Theory]
    [InlineData("/v1/admin/analytics/quarantine?from=2026-10-01")]
    [InlineData("/v1/admin/analytics/quarantine?product=acme&from=yesterday")]
    public async Task AQuarantineSummaryWithAnInvalidQueryIs400WithACode(string pathAndQuery)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await GetAsync(collector, pathAndQuery);

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_query");
    }

    [Fact]
    public async Task TheQuarantineSummaryRefusesRequestsWithoutTheAdminToken()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.Http.GetAsync("/v1/admin/analytics/quarantine?product=acme");

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_admin_token");
    }

    private static async Task<HttpResponseMessage> GetAsync(TestCollector collector, string pathAndQuery)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestCollector.AdminToken);
        return await collector.Http.SendAsync(request);
    }
}
