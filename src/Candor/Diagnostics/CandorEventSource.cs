using System.Diagnostics.Tracing;

namespace Candor.Diagnostics;

/// <summary>
/// Where the SDK reports its own problems: never thrown into the host, visible with
/// <c>dotnet-trace</c> or an <see cref="EventListener"/> (provider name <c>Candor</c>).
/// </summary>
[EventSource(Name = "Candor")]
internal sealed class CandorEventSource : EventSource
{
    public static readonly CandorEventSource Log = new();

    private CandorEventSource()
    {
    }

    [Event(1, Level = EventLevel.Warning, Message = "Events dropped: {0} ({1})")]
    public void EventsDropped(int count, string reason) => WriteEvent(1, count, reason);

    [Event(2, Level = EventLevel.Warning, Message = "Delivery failed: {0}")]
    public void DeliveryFailed(string reason) => WriteEvent(2, reason);

    [Event(3, Level = EventLevel.Informational, Message = "Delivered {0} events, status {1}")]
    public void Delivered(int count, int status) => WriteEvent(3, count, status);

    [Event(4, Level = EventLevel.Warning, Message = "Event refused by the SDK: {0}")]
    public void EventRefused(string reason) => WriteEvent(4, reason);
}
