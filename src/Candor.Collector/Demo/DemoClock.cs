namespace Candor.Collector.Demo;

/// <summary>
/// The simulated wall clock of one demo install: the SDK reads event times, operation durations and
/// each batch's <c>sent_at</c> from it, so a day in the past is replayed in a moment. Timers and
/// delays stay real (the base class's), so the SDK's delivery thread behaves as it does anywhere.
/// </summary>
internal sealed class DemoClock(DateTimeOffset start) : TimeProvider
{
    private long _utcTicks = start.UtcTicks;

    public DateTimeOffset Now
    {
        get => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);
        set => Interlocked.Exchange(ref _utcTicks, value.UtcTicks);
    }

    public void Advance(TimeSpan by) => Interlocked.Add(ref _utcTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => Now;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _utcTicks);
}
