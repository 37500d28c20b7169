using System.Net;
using System.Text;
using System.Text.Json;
using Candor.Collector.Ingestion;
using Candor.Collector.Schemas;
using Candor.Collector.Storage;
using Candor.Protocol;
using Candor.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Collector.Tests.Ingestion;

/// <summary>
/// <see cref="IngestPipeline"/> on its own, with a fake door and an in-memory store behind the real
/// group-commit writer: a refusal at each stage (authenticate, decode, validate, enqueue, commit),
/// each counted once, and an accepted batch reaching the writer enriched.
/// </summary>
#pragma warning disable CA1001 // Disposed through IAsyncLifetime, as xUnit does.
public sealed class IngestPipelineTests : IAsyncLifetime
#pragma warning restore CA1001
{
    private static readonly DateTimeOffset Now = new(2026, 3, 14, 12, 0, 0, TimeSpan.Zero);
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.7");

    private readonly TemporaryDirectory _directory = new("candor-pipeline");
    private readonly FakeTimeProvider _time = new(Now);
    private readonly RecordingEventWriter _store = new();
    private readonly CollectorOptions _options = new() { MaxLargeBodies = 1, IngestQueueCapacity = 1 };
    private readonly FakeDoor _door = new();
    private SchemaRegistry _schemas = null!;
    private GroupCommitWriter _writer = null!;
    private LargeBodyGate _gate = null!;
    private IngestPipeline _pipeline = null!;

    public async Task InitializeAsync()
    {
        _schemas = await IngestSamples.SchemasAsync(_directory);
        _writer = new GroupCommitWriter(_store, _options, NullLogger<GroupCommitWriter>.Instance);
        _gate = new LargeBodyGate(_options, _time);
        _pipeline = new IngestPipeline(new EventValidator(_schemas, _options), _writer, _gate, new Candor.Collector.Storage.ForgottenInstalls(), _options, _time, NullLogger<IngestPipeline>.Instance);
    }

    public async Task DisposeAsync()
    {
        await _writer.StopAsync(CancellationToken.None);
        _gate.Dispose();
        _schemas.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task AnAcceptedBatchReachesTheWriterEnrichedAndEachEventIsAcknowledgedInOrder()
    {
        await _writer.StartAsync(CancellationToken.None);
        var batch = IngestSamples.Batch(Now, IngestSamples.Command(Now.AddSeconds(-1)), IngestSamples.Command(Now.AddSeconds(-2), command: "build"));

        using var answer = await _pipeline.IngestJsonAsync(Call(), await BodyAsync(batch), CancellationToken.None);

        Assert.Equal(200, answer.Status);
        Assert.Null(answer.Code);
        Assert.Equal(batch.Events.Select(e => e.Id), answer.Response!.Results.Select(r => r.Id));
        Assert.All(answer.Response.Results, r => Assert.Equal("accepted", r.Status));
        Assert.Equal((2, 0), (answer.Stored, answer.Rejected));
        Assert.Equal(batch.Events.Select(e => e.Id), _store.Events.Select(e => e.Id));
        Assert.All(_store.Events, e => Assert.Equal((Now, "NZ", "AUK", "pseudonym"), (e.ReceivedAt, e.Country, e.Region, e.IpPseudonym)));
        Assert.Equal([Client], _door.DescribedClients);
        Assert.Equal([("acme", 2, 0)], _door.Recorded.Stores);
        Assert.Empty(_door.Recorded.Refusals);
    }

    [Fact]
    public async Task AnEventSentAgainIsADuplicateAndStillCountsAsStored()
    {
        await _writer.StartAsync(CancellationToken.None);
        var e = IngestSamples.Command(Now.AddSeconds(-1));

        (await _pipeline.IngestAsync(Call(), IngestSamples.Batch(Now, e), CancellationToken.None)).Dispose();
        using var again = await _pipeline.IngestAsync(Call(), IngestSamples.Batch(Now, e), CancellationToken.None);

        Assert.Equal((200, 1, 0), (again.Status, again.Response!.Duplicates, again.Response.Accepted));
        Assert.Equal(1, again.Stored);
        Assert.Single(_store.Events);
    }

    [Fact]
    public async Task TheDoorSaysWhenABatchArrived()
    {
        await _writer.StartAsync(CancellationToken.None);
        var arrival = Now.AddDays(-20);
        var door = new FakeDoor { Arrival = arrival };
        // Sent (and happened) twenty days ago, by the door's account: stored as of then, not too old.
        var batch = IngestSamples.Batch(arrival, IngestSamples.Command(arrival.AddSeconds(-5)));

        using var answer = await _pipeline.IngestAsync(new IngestCall(door, FakeDoor.Key, null), batch, CancellationToken.None);

        Assert.Equal(200, answer.Status);
        var stored = Assert.Single(_store.Events);
        Assert.Equal((arrival, arrival.AddSeconds(-5)), (stored.ReceivedAt, stored.Time));
    }

    [Theory]
    [InlineData(null, ErrorCodes.MissingWriteKey)]
    [InlineData("", ErrorCodes.MissingWriteKey)]
    [InlineData("wk_someone_else", ErrorCodes.InvalidWriteKey)]
    public void AMissingOrUnknownKeyIsRefusedBeforeAnythingIsRead(string? key, string code)
    {
        using var answer = IngestPipeline.Authenticate(new IngestCall(_door, key, Client));

        AssertRefused(answer, 401, code);
        Assert.Null(IngestPipeline.Authenticate(Call()));
    }

    [Fact]
    public async Task ABodyRefusedWhileItWasReadIsAnsweredAsItIs()
    {
        var body = await RequestBody.ReadAsync(new MemoryStream(new byte[100]), null, "br", 1 << 20, 8 << 20, TimeSpan.FromSeconds(30), _time, default);

        using var answer = await _pipeline.IngestJsonAsync(Call(), body, CancellationToken.None);

        AssertRefused(answer, 415, ErrorCodes.UnsupportedEncoding);
    }

    [Theory]
    [InlineData(new byte[] { 0x7B, 0xFF, 0x7D }, ErrorCodes.InvalidUtf8)]
    [InlineData(new byte[] { 0x7B, 0x22, 0x63 }, ErrorCodes.MalformedBody)]
    [InlineData(new byte[] { 0x5B, 0x31, 0x5D }, ErrorCodes.MalformedBody)]
    public async Task ABodyThatDoesNotDecodeToABatchIs400WithItsCode(byte[] json, string code)
    {
        using var answer = await _pipeline.IngestJsonAsync(Call(), await BodyAsync(json), CancellationToken.None);

        AssertRefused(answer, 400, code);
        Assert.Empty(_store.Events);
    }

    [Fact]
    public async Task JsonNestedDeeperThanTheLimitIsNestingTooDeep()
    {
        var json = Encoding.UTF8.GetBytes(new string('[', IngestPipeline.MaxJsonDepth + 4) + new string(']', IngestPipeline.MaxJsonDepth + 4));

        using var answer = await _pipeline.IngestJsonAsync(Call(), await BodyAsync(json), CancellationToken.None);

        AssertRefused(answer, 400, ErrorCodes.NestingTooDeep);
    }

    [Fact]
    public async Task ALargeBodyWhileTheLargeBodySlotsAreTakenIsOverloadedOnceTheWaitRunsOut()
    {
        using var taken = await _gate.EnterAsync(LargeBodyGate.MinBytes + 1, CancellationToken.None);
        var large = await BodyAsync(new byte[LargeBodyGate.MinBytes + 1]);

        var answering = _pipeline.IngestJsonAsync(Call(), large, CancellationToken.None);
        Assert.False(answering.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(5));
        using var answer = await answering.WaitAsync(TimeSpan.FromSeconds(10));

        AssertRefused(answer, 503, ErrorCodes.Overloaded);
        Assert.Equal(1, answer.RetryAfterSeconds);
    }

    [Theory]
    [InlineData("no context", 400, ErrorCodes.MalformedBody)]
    [InlineData("bad product", 400, ErrorCodes.InvalidProduct)]
    [InlineData("another product", 401, ErrorCodes.InvalidWriteKey)]
    [InlineData("no events", 400, ErrorCodes.EmptyBatch)]
    [InlineData("too many events", 413, ErrorCodes.TooManyEvents)]
    [InlineData("long context", 400, ErrorCodes.StringTooLong)]
    [InlineData("wide context", 400, ErrorCodes.StringTooLong)]
    [InlineData("wide cloud region", 400, ErrorCodes.StringTooLong)]
    [InlineData("nul in container", 400, ErrorCodes.InvalidText)]
    [InlineData("nul in context", 400, ErrorCodes.InvalidText)]
    public async Task ABatchThatFailsAWholeBatchRuleIsRefusedAndNothingReachesTheWriter(string problem, int status, string code)
    {
        await _writer.StartAsync(CancellationToken.None);
        var batch = IngestSamples.Batch(Now, IngestSamples.Command(Now));
        switch (problem)
        {
            case "no context": batch.Context = null!; break;
            case "bad product": batch.Context.Product = "Acme Corp"; break;
            case "another product": batch.Context.Product = "other"; break;
            case "no events": batch.Events.Clear(); break;
            case "too many events": batch = IngestSamples.Batch(Now, [.. Enumerable.Range(0, IngestPipeline.MaxEventsPerBatch + 1).Select(_ => IngestSamples.Command(Now))]); break;
            case "long context": batch.Context.UserId = new string('u', _options.MaxStringLength + 1); break;
            case "wide context": batch.Context.OsVersion = new string('o', TextRules.MaxDimensionBytes + 1); break;
            case "wide cloud region": batch.Context.CloudRegion = new string('r', TextRules.MaxDimensionBytes + 1); break;
            case "nul in container": batch.Context.Container = "dock\0er"; break;
            case "nul in context": batch.Context.ProjectId = "p\0"; break;
        }

        using var answer = await _pipeline.IngestAsync(Call(), batch, CancellationToken.None);

        AssertRefused(answer, status, code);
        Assert.Empty(_store.Events);
        Assert.Empty(_store.Quarantine);
        Assert.Empty(_door.DescribedClients);
    }

    [Fact]
    public async Task ABatchWithNoValidEventIs422WithEachEventsReasonAndTheEventsAreQuarantined()
    {
        await _writer.StartAsync(CancellationToken.None);
        var unknown = IngestSamples.Command(Now);
        unknown.Name = "deploy";
        var future = IngestSamples.Command(Now.AddHours(1));

        using var answer = await _pipeline.IngestAsync(Call(), IngestSamples.Batch(Now, unknown, future), CancellationToken.None);

        AssertRefused(answer, 422, ErrorCodes.NoValidEvents);
        Assert.Equal([ErrorCodes.UnknownSchema, ErrorCodes.TimeInFuture], answer.Error!.Results!.Select(r => r.Code));
        Assert.Equal((0, 2), (answer.Stored, answer.Rejected));
        Assert.Equal([unknown.Id, future.Id], _store.Quarantine.Select(q => q.EventId!.Value));
        Assert.Equal([ErrorCodes.UnknownSchema, ErrorCodes.TimeInFuture], _door.Recorded.Rejections);
        Assert.Empty(_door.Recorded.Stores);
    }

    [Fact]
    public async Task AFullWriterQueueIsAnswered503WithRetryAfter()
    {
        Assert.True(_writer.TryEnqueue(new WriteRequest([], []))); // the one place in the queue, with the writer not started

        using var answer = await _pipeline.IngestAsync(Call(), IngestSamples.Batch(Now, IngestSamples.Command(Now)), CancellationToken.None);

        AssertRefused(answer, 503, ErrorCodes.Overloaded);
        Assert.Equal(1, answer.RetryAfterSeconds);
    }

    [Fact]
    public async Task ADoorThatWaitsOutAFullQueueIsStoredOnceTheWriterCatchesUp()
    {
        var door = new FakeDoor { WaitsWhenBusy = true };
        Assert.True(_writer.TryEnqueue(new WriteRequest([], [])));

        var answering = _pipeline.IngestAsync(new IngestCall(door, FakeDoor.Key, null), IngestSamples.Batch(Now, IngestSamples.Command(Now)), CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.False(answering.IsCompleted);
        await _writer.StartAsync(CancellationToken.None);
        while (!answering.IsCompleted)
        {
            _time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(10);
        }

        using var answer = await answering;
        Assert.Equal(200, answer.Status);
        Assert.Single(_store.Events);
        Assert.Empty(door.Recorded.Refusals);
    }

    [Fact]
    public async Task AStoreThatFailsIsStorageUnavailableWithRetryAfterAndOneThatRefusesTheContentIsStorageRejected()
    {
        await _writer.StartAsync(CancellationToken.None);

        _store.Failure = new IOException("disk full");
        using var unavailable = await _pipeline.IngestAsync(Call(), IngestSamples.Batch(Now, IngestSamples.Command(Now)), CancellationToken.None);
        _store.Failure = new StorageRejectedException("22021");
        using var rejected = await _pipeline.IngestAsync(Call(), IngestSamples.Batch(Now, IngestSamples.Command(Now)), CancellationToken.None);

        AssertRefused(unavailable, 503, ErrorCodes.StorageUnavailable);
        Assert.Equal(5, unavailable.RetryAfterSeconds);
        AssertRefused(rejected, 422, ErrorCodes.StorageRejected);
        Assert.Contains("22021", rejected.Error!.Message, StringComparison.Ordinal);
        Assert.Null(rejected.RetryAfterSeconds);
    }

    [Fact]
    public async Task EveryRefusalIsCountedOnceUnderItsCodeInTheDoorsCounters()
    {
        await _writer.StartAsync(CancellationToken.None);

        IngestPipeline.Authenticate(new IngestCall(_door, null, Client))?.Dispose();
        (await _pipeline.IngestJsonAsync(Call(), await BodyAsync("{"u8.ToArray()), CancellationToken.None)).Dispose();
        (await _pipeline.IngestAsync(Call(), IngestSamples.Batch(Now), CancellationToken.None)).Dispose();
        IngestPipeline.Discard(Call(), await RequestBody.ReadAsync(new MemoryStream(new byte[10]), null, "br", 1 << 20, 8 << 20, TimeSpan.FromSeconds(1), _time, default)).Dispose();
        (await _pipeline.IngestAsync(Call(), IngestSamples.Batch(Now, IngestSamples.Command(Now.AddHours(1))), CancellationToken.None)).Dispose();

        Assert.Equal([ErrorCodes.MissingWriteKey, ErrorCodes.MalformedBody, ErrorCodes.EmptyBatch, ErrorCodes.UnsupportedEncoding, ErrorCodes.NoValidEvents],
            _door.Recorded.Refusals);
        Assert.Equal([ErrorCodes.TimeInFuture], _door.Recorded.Rejections);
    }

    private IngestCall Call() => new(_door, FakeDoor.Key, Client);

    private Task<RequestBody> BodyAsync(EventBatch batch) =>
        BodyAsync(JsonSerializer.SerializeToUtf8Bytes(batch, ProtocolJsonContext.Default.EventBatch));

    private Task<RequestBody> BodyAsync(byte[] json) =>
        RequestBody.ReadAsync(new MemoryStream(json), json.Length, null, 1 << 20, 8 << 20, TimeSpan.FromSeconds(30), _time, CancellationToken.None);

    private static void AssertRefused(IngestAnswer? answer, int status, string code)
    {
        Assert.NotNull(answer);
        Assert.Equal((status, code), (answer.Status, answer.Code));
        Assert.NotNull(answer.Error?.Message);
    }
}
