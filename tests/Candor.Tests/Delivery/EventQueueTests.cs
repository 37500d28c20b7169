using Candor.Catalog;
using Candor.Delivery;
using Candor.Protocol;

namespace Candor.Tests.Delivery;

public sealed class EventQueueTests
{
    private static readonly EventDefinition Tick = new EventDefinition("tick", "A test event.").Integer("i", "A counter.");

    [Fact]
    public void EventsLeaveInTheOrderTheyCameAcrossGrowingAndWrappingAround()
    {
        var queue = new EventQueue(100);
        var written = 0;
        var read = new List<long>();

        // Interleaved writes and reads move the head around the ring while it grows past its first 16 slots.
        for (var round = 0; round < 10; round++)
        {
            for (var i = 0; i < 7; i++)
            {
                Assert.True(queue.TryWrite(Event(written++)));
            }

            for (var i = 0; i < 4 && queue.TryRead(out var item); i++)
            {
                read.Add(item.Values[0].AsInteger);
            }
        }

        while (queue.TryRead(out var item))
        {
            read.Add(item.Values[0].AsInteger);
        }

        Assert.Equal(Enumerable.Range(0, written).Select(i => (long)i), read);
    }

    [Fact]
    public void AFullQueueRefusesTheEventAndKeepsWhatItHolds()
    {
        var queue = new EventQueue(20);
        for (var i = 0; i < 20; i++)
        {
            Assert.True(queue.TryWrite(Event(i)));
        }

        Assert.False(queue.TryWrite(Event(20)));
        Assert.True(queue.TryRead(out var first));
        Assert.Equal(0L, first.Values[0].AsInteger);
        Assert.True(queue.TryWrite(Event(21)));
    }

    [Fact]
    public void ACompletedQueueRefusesWritesButStillGivesUpWhatItHolds()
    {
        var queue = new EventQueue(10);
        Assert.True(queue.TryWrite(Event(1)));

        queue.Complete();

        Assert.False(queue.TryWrite(Event(2)));
        Assert.True(queue.TryRead(out var held));
        Assert.Equal(1L, held.Values[0].AsInteger);
        Assert.False(queue.TryRead(out _));
    }

    private static QueuedEvent Event(long i) => new(Tick, DateTimeOffset.UnixEpoch, [PropertyValue.FromInteger(i)]);
}
