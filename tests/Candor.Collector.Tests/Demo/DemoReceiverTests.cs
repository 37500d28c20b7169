using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Candor.Collector.Demo;
using Candor.Collector.Enrichment;
using Candor.Collector.Ingestion;
using Candor.Collector.Schemas;
using Candor.Collector.Storage;
using Candor.Collector.Tests.Ingestion;
using Candor.Protocol;
using Candor.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Collector.Tests.Demo;

/// <summary>The demo's receiver as a door of the ingest pipeline, over HTTP, with an in-memory store.</summary>
#pragma warning disable CA1001 // Disposed through IAsyncLifetime, as xUnit does.
public sealed class DemoReceiverTests : IAsyncLifetime
#pragma warning restore CA1001
{
    private static readonly DateTimeOffset Now = new(2026, 3, 14, 12, 0, 0, TimeSpan.Zero);

    private readonly TemporaryDirectory _directory = new("candor-demo-receiver");
    private readonly RecordingEventWriter _store = new();
    private readonly CollectorOptions _options = new();
    private readonly HttpClient _http = new();
    private SchemaRegistry _schemas = null!;
    private GroupCommitWriter _writer = null!;
    private GeoLocator _geo = null!;
    private LargeBodyGate _gate = null!;
    private DemoReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        var time = new FakeTimeProvider(Now);
        _schemas = await IngestSamples.SchemasAsync(_directory);
        _writer = new GroupCommitWriter(_store, _options, NullLogger<GroupCommitWriter>.Instance);
        await _writer.StartAsync(CancellationToken.None);
        _geo = new GeoLocator(_options);
        _gate = new LargeBodyGate(_options, time);
        var pipeline = new IngestPipeline(new EventValidator(_schemas, _options), _writer, _gate, new Candor.Collector.Storage.ForgottenInstalls(), _options, time, NullLogger<IngestPipeline>.Instance);
        _receiver = new DemoReceiver(pipeline, new ClientAddressEnricher(_geo, new IpPseudonymizer(time), _options), _geo, _options, time);
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _writer.StopAsync(CancellationToken.None);
        _http.Dispose();
        _gate.Dispose();
        _geo.Dispose();
        _schemas.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task ABatchIsStoredAsOfItsSentAtWhereItsInstallLivesAndCountsInNoMetric()
    {
        var install = Guid.NewGuid();
        _receiver.Locate(install, new DemoNetwork("203.0.113.0/24", "NZ", "AUK", 1), IPAddress.Parse("203.0.113.9"));
        // Twenty days ago by the simulated clock: older than the validator would take from a real client's skew.
        var sentAt = Now.AddDays(-20);
        var batch = IngestSamples.Batch(sentAt, IngestSamples.Command(sentAt.AddSeconds(-5)));
        batch.Context.InstallId = install;

        using var response = await PostAsync(batch, _receiver.WriteKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = Assert.Single(_store.Events);
        Assert.Equal(sentAt + TimeSpan.FromMilliseconds(40), stored.ReceivedAt);
        Assert.Equal(("NZ", "AUK"), (stored.Country, stored.Region));
        Assert.Equal((1, 0), (_receiver.Accepted, _receiver.Rejected));
        Assert.Same(UncountedIngest.Instance, _receiver.Counters);
    }

    [Fact]
    public async Task ABatchClaimingToBeSentInTheFutureIsTakenToArriveNowNotThen()
    {
        var batch = IngestSamples.Batch(Now.AddDays(1), IngestSamples.Command(Now.AddDays(1).AddSeconds(-5)));

        using var response = await PostAsync(batch, _receiver.WriteKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = Assert.Single(_store.Events);
        Assert.Equal((Now, Now.AddSeconds(-5)), (stored.ReceivedAt, stored.Time));
    }

    [Fact]
    public async Task ABatchWithNoValidEventIsAnswered422AndItsEventsAreQuarantined()
    {
        var e = IngestSamples.Command(Now);
        e.Name = "plugin_loaded";

        using var response = await PostAsync(IngestSamples.Batch(Now, e), _receiver.WriteKey);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal(ErrorCodes.UnknownSchema, Assert.Single(_store.Quarantine).ReasonCode);
        Assert.Equal((0, 1), (_receiver.Accepted, _receiver.Rejected));
    }

    [Fact]
    public async Task AnyKeyButItsOwnIsRefused()
    {
        using var wrong = await PostAsync(IngestSamples.Batch(Now, IngestSamples.Command(Now)), "wk_not_the_demos");
        using var none = await PostAsync(IngestSamples.Batch(Now, IngestSamples.Command(Now)), null);

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Empty(_store.Events);
    }

    private async Task<HttpResponseMessage> PostAsync(EventBatch batch, string? writeKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_receiver.Endpoint, "v1/events"))
        {
            Content = new ByteArrayContent(TestCollector.Gzip(JsonSerializer.SerializeToUtf8Bytes(batch, ProtocolJsonContext.Default.EventBatch))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Content.Headers.ContentEncoding.Add("gzip");
        if (writeKey is not null)
        {
            request.Headers.Add(ProtocolConstants.WriteKeyHeader, writeKey);
        }

        return await _http.SendAsync(request);
    }
}
