using System.Net;
using Candor.Collector.Ingestion;
using Candor.Collector.Operations;
using Candor.Collector.Storage;
using Candor.Collector.Tests.Ingestion;
using Candor.Protocol;
using Candor.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Collector.Tests.DataRights;

/// <summary>A batch of a forgotten install is answered 410 <c>install_forgotten</c>, and nothing of it
/// reaches the writer: neither its valid events nor its invalid ones (no quarantine).</summary>
public sealed class ForgottenIngestTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 14, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task AForgottenInstallsBatchIsAnswered410AndTheWriterGetsNothingOfIt()
    {
        using var directory = new TemporaryDirectory("candor-forgotten");
        using var schemas = await IngestSamples.SchemasAsync(directory);
        var options = new CollectorOptions();
        var time = new FakeTimeProvider(Now);
        var store = new RecordingEventWriter();
        var writer = new GroupCommitWriter(store, options, NullLogger<GroupCommitWriter>.Instance);
        using var gate = new LargeBodyGate(options, time);
        var forgotten = new ForgottenInstalls();
        forgotten.Load(FakeDataRights.Key, []);
        var pipeline = new IngestPipeline(new EventValidator(schemas, options), writer, gate, forgotten, options, time, NullLogger<IngestPipeline>.Instance);
        var door = new FakeDoor();
        await writer.StartAsync(CancellationToken.None);
        var install = Guid.NewGuid();
        forgotten.Add(forgotten.Tombstone(FakeDoor.Product, install));
        var refusedBefore = CollectorMetrics.BatchesForgotten.Value;
        try
        {
            var batch = Batch(install);
            var other = Batch(Guid.NewGuid());

            using var refused = await pipeline.IngestAsync(new IngestCall(door, FakeDoor.Key, IPAddress.Loopback), batch, CancellationToken.None);
            using var accepted = await pipeline.IngestAsync(new IngestCall(door, FakeDoor.Key, IPAddress.Loopback), other, CancellationToken.None);

            Assert.Equal((410, ErrorCodes.InstallForgotten), (refused.Status, refused.Code));
            Assert.Equal(200, accepted.Status);
            Assert.Equal(other.Events.Where(e => e.Properties!.Count == 3).Select(e => e.Id), store.Events.Select(e => e.Id));
            Assert.All(store.Quarantine, q => Assert.NotEqual(install, q.InstallId));
            Assert.Equal([ErrorCodes.InstallForgotten], door.Recorded.Refusals);
            Assert.True(CollectorMetrics.BatchesForgotten.Value >= refusedBefore + 1);
        }
        finally
        {
            await writer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task TheForgottenAnswerComesOnlyAfterTheWriteKeyIsChecked()
    {
        var (collector, store) = await DataRightsHost.StartAsync();
        await using var _ = collector;
        var install = Guid.NewGuid();
        store.Held[("acme", install)] = DataRightsHost.Records(install);
        (await collector.PostRightsAsync(ProtocolConstants.ForgetPath, DataRightsHost.Body(install))).Dispose();
        var batch = $$"""
            {"sent_at":"{{TestCollector.Now}}","context":{"product":"acme","install_id":"{{install}}","session_id":"{{Guid.NewGuid()}}"},
             "events":[{{TestCollector.Event(Guid.CreateVersion7())}},{{TestCollector.Event(Guid.CreateVersion7(), """{"undeclared":true}""")}}]}
            """;

        using var wrongKey = await collector.PostAsync(batch, DataRightsHost.OtherKey);
        using var refused = await collector.PostAsync(batch);

        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, refused.StatusCode);
        Assert.Equal(ErrorCodes.InstallForgotten, await refused.CodeAsync());
        Assert.Empty(await collector.ReadEventsAsync());
        Assert.Empty(await collector.ReadQuarantineAsync());
    }

    /// <summary>Two valid events and one the schema refuses (it would be quarantined).</summary>
    private static EventBatch Batch(Guid install)
    {
        var invalid = IngestSamples.Command(Now.AddSeconds(-1));
        invalid.Properties!["undeclared"] = true;
        var batch = IngestSamples.Batch(Now, IngestSamples.Command(Now.AddSeconds(-2)), IngestSamples.Command(Now.AddSeconds(-1)), invalid);
        batch.Context.InstallId = install;
        return batch;
    }
}
