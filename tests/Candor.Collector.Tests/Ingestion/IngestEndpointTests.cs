using System.Net;
using System.Text;
using System.Text.Json;

namespace Candor.Collector.Tests.Ingestion;

public sealed class IngestEndpointTests
{
    [Fact]
    public async Task AValidGzipBatchIsStoredAndEachEventAcknowledged()
    {
        await using var collector = await TestCollector.StartAsync();
        Guid[] ids = [Guid.CreateVersion7(), Guid.CreateVersion7()];

        using var response = await collector.PostAsync(TestCollector.Batch("acme", ids), gzip: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, body.RootElement.GetProperty("accepted").GetInt32());
        Assert.Equal(ids, body.RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetGuid()));
        var stored = await collector.ReadEventsAsync();
        Assert.Equal(ids.Order(), stored.Select(e => e.GetProperty("id").GetGuid()).Order());
        Assert.All(stored, e => Assert.Equal(3, e.GetProperty("properties").GetProperty("duration_ms").GetInt32()));
    }

    [Fact]
    public async Task TheSameEventPostedTwiceIsStoredOnceAndReportedAsADuplicate()
    {
        await using var collector = await TestCollector.StartAsync();
        var id = Guid.CreateVersion7();

        (await collector.PostAsync(TestCollector.Batch("acme", id))).Dispose();
        using var second = await collector.PostAsync(TestCollector.Batch("acme", id));

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        using var body = JsonDocument.Parse(await second.Content.ReadAsStringAsync());
        Assert.Equal(1, body.RootElement.GetProperty("duplicates").GetInt32());
        Assert.Single(await collector.ReadEventsAsync());
    }

    [Theory]
    [InlineData(null, "missing_write_key")]
    [InlineData("wk_wrong_0123456789abcdef", "invalid_write_key")]
    public async Task AMissingOrWrongWriteKeyIs401WithACode(string? writeKey, string code)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.PostAsync(TestCollector.Batch(), writeKey);

        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, code);
        Assert.Empty(await collector.ReadEventsAsync());
    }

    [Fact]
    public async Task AWriteKeyForAnotherProductIs401()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.PostAsync(TestCollector.Batch("other-tool"));

        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_write_key");
        Assert.Empty(await collector.ReadEventsAsync("other-tool"));
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"sent_at":"yesterday","context":{"product":"acme"},"events":[]}""")]
    [InlineData("""{"context":{},"events":[]}""")]
    [InlineData("[]")]
    public async Task AMalformedBodyIs400AndStoresNothing(string json)
    {
        await using var collector = await TestCollector.StartAsync();
        (await collector.PostAsync(TestCollector.Batch())).Dispose();

        using var response = await collector.PostAsync(json);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "malformed_body");
        Assert.Single(await collector.ReadEventsAsync());
    }

    [Fact]
    public async Task ABodyThatIsNotGzipDespiteItsHeaderIs400()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.PostBytesAsync(Encoding.UTF8.GetBytes(TestCollector.Batch()), contentEncoding: "gzip");

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "malformed_body");
    }

    [Fact]
    public async Task AnEmptyBatchIs400()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.PostAsync("""{"sent_at":"2026-11-23T08:00:00Z","context":{"product":"acme"},"events":[]}""");

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "empty_batch");
    }

    [Fact]
    public async Task TheAdminEndpointRefusesAWrongToken()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.Http.GetAsync("/v1/admin/events?product=acme");

        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_admin_token");
    }

    [Fact]
    public async Task StoredEventsSurviveARestart()
    {
        var id = Guid.CreateVersion7();
        var data = Path.Combine(Path.GetTempPath(), "candor-restart-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var first = await TestCollector.StartAsync(data))
            {
                (await first.PostAsync(TestCollector.Batch("acme", id))).Dispose();
            }

            await using var second = await TestCollector.StartAsync(data);
            Assert.Equal(id, Assert.Single(await second.ReadEventsAsync()).GetProperty("id").GetGuid());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task HealthAndReadinessAnswer()
    {
        await using var collector = await TestCollector.StartAsync();

        Assert.Equal(HttpStatusCode.OK, (await collector.Http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await collector.Http.GetAsync("/readyz")).StatusCode);
    }

    internal static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(code, body.RootElement.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(body.RootElement.GetProperty("message").GetString()));
    }
}
