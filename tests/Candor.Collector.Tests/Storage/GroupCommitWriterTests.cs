using System.Net;
using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Candor.Collector.Tests.Storage;

#pragma warning disable CA1001 // Disposed through IAsyncLifetime, as xUnit does.
public sealed class GroupCommitWriterTests : IAsyncLifetime
#pragma warning restore CA1001
{
    private readonly TemporaryDirectory _directory = new("candor-writer");
    private DuckDbEventStore _store = null!;
    private GatedWriter _gated = null!;

    public async Task InitializeAsync()
    {
        _store = new DuckDbEventStore(_directory.Combine("candor.duckdb"));
        await _store.InitializeAsync(CancellationToken.None);
        _gated = new GatedWriter(_store);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task RequestsArrivingWhileACommitRunsAreCommittedTogetherInTheNextCommit()
    {
        var writer = Writer();
        await writer.StartAsync(CancellationToken.None);
        var first = Request(10);
        Assert.True(writer.TryEnqueue(first));
        await _gated.Entered.WaitAsync(TimeSpan.FromSeconds(10));

        var arrivingTogether = Enumerable.Range(0, 9).Select(_ => Request(10)).ToList();
        Assert.All(arrivingTogether, r => Assert.True(writer.TryEnqueue(r)));
        Assert.False(first.Committed.IsCompleted, "nothing is acknowledged before its commit");
        _gated.Release();
        await Task.WhenAll(arrivingTogether.Select(r => r.Committed).Append(first.Committed));
        await writer.StopAsync(CancellationToken.None);

        Assert.Equal([10, 90], _gated.CommitSizes);
        Assert.Equal(100, (await _store.ReadRecentAsync("acme", 1000, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task WhenTheQueueIsFullNewWorkIsRefusedRatherThanQueuedWithoutBound()
    {
        var writer = Writer(capacity: 2);
        await writer.StartAsync(CancellationToken.None);
        Assert.True(writer.TryEnqueue(Request(1)));
        await _gated.Entered.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(writer.TryEnqueue(Request(1)));
        Assert.True(writer.TryEnqueue(Request(1)));
        Assert.False(writer.TryEnqueue(Request(1)));

        _gated.Release();
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ShutdownDrainsEveryQueuedRequestBeforeItReturns()
    {
        var writer = Writer();
        await writer.StartAsync(CancellationToken.None);
        var requests = Enumerable.Range(0, 5).Select(_ => Request(20)).ToList();
        Assert.True(writer.TryEnqueue(requests[0]));
        await _gated.Entered.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(requests.Skip(1), r => Assert.True(writer.TryEnqueue(r)));

        var stopping = writer.StopAsync(CancellationToken.None);
        Assert.False(writer.TryEnqueue(Request(1)), "no new work once stopping");
        _gated.Release();
        await stopping;

        Assert.All(requests, r => Assert.True(r.Committed.IsCompletedSuccessfully));
        Assert.Equal(100, (await _store.ReadRecentAsync("acme", 1000, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task AFailedCommitFailsItsRequestsAndTheWriterCarriesOn()
    {
        _gated.FailNext = true;
        var writer = Writer();
        await writer.StartAsync(CancellationToken.None);
        _gated.Release();

        var failed = Request(3);
        writer.TryEnqueue(failed);
        await Assert.ThrowsAsync<IOException>(() => failed.Committed);
        var next = Request(3);
        writer.TryEnqueue(next);
        var duplicates = await next.Committed;
        Assert.Equal(new[] { false, false, false }, duplicates);
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task AGroupRefusedForOneBatchsContentIsSplitSoOnlyThatBatchFails()
    {
        var poisoned = EventStoreContract.Record("acme");
        var refusing = new RefusingWriter(_store, poisoned.Id);
        var writer = new GroupCommitWriter(refusing, new CollectorOptions(), NullLogger<GroupCommitWriter>.Instance);
        var good = Enumerable.Range(0, 6).Select(_ => Request(5)).ToList();
        var bad = new WriteRequest([poisoned], []);
        foreach (var request in good.Take(3).Append(bad).Concat(good.Skip(3)))
        {
            Assert.True(writer.TryEnqueue(request)); // queued before the writer starts: one group
        }

        await writer.StartAsync(CancellationToken.None);
        await Task.WhenAll(good.Select(r => r.Committed));
        await Assert.ThrowsAsync<StorageRejectedException>(() => bad.Committed);
        await writer.StopAsync(CancellationToken.None);

        Assert.Equal([31, 1], refusing.Refusals); // the whole group first, then the bad batch alone
        Assert.Equal(30, (await _store.ReadRecentAsync("acme", 1000, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task AStoppedWriterMakesTheIngestEndpointAnswer503WithRetryAfter()
    {
        await using var collector = await TestCollector.StartAsync();
        await collector.Service<GroupCommitWriter>().StopAsync(CancellationToken.None);

        using var response = await collector.PostAsync(TestCollector.Batch());

        await Ingestion.IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "overloaded");
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
    }

    private GroupCommitWriter Writer(int capacity = 256) =>
        new(_gated, new CollectorOptions { IngestQueueCapacity = capacity }, NullLogger<GroupCommitWriter>.Instance);

    private static WriteRequest Request(int events) =>
        new([.. Enumerable.Range(0, events).Select(_ => EventStoreContract.Record("acme"))], []);

    /// <summary>The real store, refusing (as PostgreSQL refuses content) any group holding one event.</summary>
    private sealed class RefusingWriter(IEventWriter inner, Guid refused) : IEventWriter
    {
        /// <summary>How many events each refused write held.</summary>
        public List<int> Refusals { get; } = [];

        public int ConcurrentWrites => 1;

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task<bool[]> WriteAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
        {
            if (events.Any(e => e.Id == refused))
            {
                Refusals.Add(events.Count);
                throw new StorageRejectedException("22021");
            }

            return inner.WriteAsync(events, quarantine, cancellationToken);
        }
    }

    /// <summary>The real store behind a gate that holds the first commit until released.</summary>
    private sealed class GatedWriter(IEventWriter inner) : IEventWriter
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<int> CommitSizes { get; } = [];

        public bool FailNext { get; set; }

        public Task Entered => _entered.Task;

        public void Release() => _gate.TrySetResult();

        public int ConcurrentWrites => inner.ConcurrentWrites;

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public async Task<bool[]> WriteAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
        {
            _entered.TrySetResult();
            await _gate.Task;
            if (FailNext)
            {
                FailNext = false;
                throw new IOException("disk full");
            }

            CommitSizes.Add(events.Count);
            return await inner.WriteAsync(events, quarantine, cancellationToken);
        }
    }
}
