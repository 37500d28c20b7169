using Candor.Collector.Ingestion;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Collector.Tests.Ingestion;

public sealed class LargeBodyGateTests
{
    [Fact]
    public async Task SmallBodiesNeverWaitAndLargeOnesWaitForAFreeSlotThenGiveUp()
    {
        var time = new FakeTimeProvider();
        using var gate = new LargeBodyGate(new CollectorOptions { MaxLargeBodies = 1 }, time);

        var first = await gate.EnterAsync(LargeBodyGate.MinBytes + 1, CancellationToken.None);
        Assert.NotNull(first);
        Assert.Same(LargeBodyGate.Slot.None, await gate.EnterAsync(4096, CancellationToken.None));

        var waiting = gate.EnterAsync(LargeBodyGate.MinBytes + 1, CancellationToken.None);
        Assert.False(waiting.IsCompleted, "the only slot is taken");
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Null(await waiting);

        var next = gate.EnterAsync(LargeBodyGate.MinBytes + 1, CancellationToken.None);
        first!.Dispose();
        first.Dispose(); // twice is harmless: the slot is released once
        using var second = await next;
        Assert.NotNull(second);
        Assert.False(gate.EnterAsync(LargeBodyGate.MinBytes + 1, CancellationToken.None).IsCompleted, "one slot, held again");
    }
}
