using Candor.Catalog;
using Candor.Delivery;
using Candor.Protocol;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Tests.Delivery;

public sealed class BatchAssemblerTests
{
    private static readonly EventDefinition Tick = new EventDefinition("tick", "A test event.").Integer("i", "A counter.");
    private static readonly DateTimeOffset Now = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void BatchesAreCutAtTheConfiguredCountInQueueOrderAndTheWaitingCountFollows()
    {
        var (queue, assembler) = Assembler(o => o.BatchSize = 4);
        Enqueue(queue, assembler, 10);

        Assert.Equal(10, assembler.Pending);
        var first = assembler.Take(log: false);
        Assert.Equal([0L, 1, 2, 3], first!.Events.Select(e => e.Properties!["i"].AsInteger));
        Assert.Equal(6, assembler.Pending);
        Assert.Equal([4, 2], assembler.TakeAll().Select(b => b.Events.Count));
        Assert.Equal(0, assembler.Pending);
        Assert.Null(assembler.Take(log: false));
    }

    [Fact]
    public void ABatchIsCutOnceItsEstimatedBytesReachTheLimit()
    {
        var (queue, assembler) = Assembler(o => o.MaxBatchBytes = 4096);
        Enqueue(queue, assembler, 100);

        var batches = assembler.TakeAll();

        Assert.True(batches.Count > 1, $"{batches.Count} batches");
        Assert.Equal(100, batches.Sum(b => b.Events.Count));
        Assert.All(batches, b => Assert.InRange(b.Events.Count, 1, 4096 / 120 + 1));
    }

    [Fact]
    public void ABatchCarriesTheContextAndIsStampedWithTheClocksTime()
    {
        var (queue, assembler) = Assembler();
        Enqueue(queue, assembler, 1);

        var batch = assembler.Take(log: false)!;

        Assert.Equal(Now, batch.SentAt);
        Assert.Equal("acme", batch.Context.Product);
        Assert.Equal(Now, batch.Events[0].Time);
    }

    [Fact]
    public void DiscardEmptiesTheQueueWithoutMakingBatches()
    {
        var (queue, assembler) = Assembler();
        Enqueue(queue, assembler, 5);

        Assert.Equal(5, assembler.Discard());
        Assert.Equal(0, assembler.Pending);
        Assert.Null(assembler.Take(log: false));
    }

    private static (EventQueue Queue, BatchAssembler Assembler) Assembler(Action<CandorOptions>? configure = null)
    {
        var options = new CandorOptions { ProductName = "acme" };
        configure?.Invoke(options);
        var queue = new EventQueue(1000);
        var context = new Lazy<EventContext>(() => new EventContext { Product = "acme", SessionId = Guid.CreateVersion7() });
        return (queue, new BatchAssembler(queue, options, context, transparencyLog: null, new FakeTimeProvider(Now)));
    }

    private static void Enqueue(EventQueue queue, BatchAssembler assembler, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(queue.TryWrite(new QueuedEvent(Tick, Now, [PropertyValue.FromInteger(i)])));
            assembler.Added();
        }
    }
}
