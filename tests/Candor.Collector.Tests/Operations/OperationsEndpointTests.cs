using System.Net;

namespace Candor.Collector.Tests.Operations;

public sealed class OperationsEndpointTests
{
    [Fact]
    public async Task MetricsCountAcceptedDuplicateAndRejectedEventsAndExposeQueueAndLatency()
    {
        await using var collector = await TestCollector.StartAsync();
        var id = Guid.CreateVersion7();
        (await collector.PostAsync(TestCollector.Batch("acme", id))).Dispose();
        (await collector.PostAsync(TestCollector.Batch("acme", id))).Dispose();
        (await collector.PostAsync(TestCollector.BatchOf("acme", TestCollector.Event(Guid.CreateVersion7(), name: "nope")))).Dispose();

        var metrics = await collector.Http.GetStringAsync("/metrics");

        Assert.Contains("candor_events_accepted_total{product=\"acme\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("candor_events_duplicate_total{product=\"acme\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("candor_events_rejected_total{reason=\"unknown_schema\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("candor_ingest_queue_depth", metrics, StringComparison.Ordinal);
        Assert.Contains("candor_ingest_request_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("candor_commit_duration_seconds_bucket", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDiscardEndpointExistsOnlyWhenEnabled()
    {
        await using var off = await TestCollector.StartAsync();
        await using var on = await TestCollector.StartAsync(settings: ["--Candor:EnableDiscardEndpoint=true"]);

        using var missing = await off.Http.PostAsync("/v1/discard", new ByteArrayContent(TestCollector.Gzip("{}"u8.ToArray())));
        using var content = new ByteArrayContent(TestCollector.Gzip("{}"u8.ToArray()));
        content.Headers.ContentEncoding.Add("gzip");
        using var discarded = await on.Http.PostAsync("/v1/discard", content);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.OK, discarded.StatusCode);
    }
}
