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

    [Event(5, Level = EventLevel.Warning, Message = "Event '{0}' is not declared in the catalog: dropped")]
    public void EventUndeclared(string name) => WriteEvent(5, name);

    [Event(6, Level = EventLevel.Warning, Message = "Property '{1}' of event '{0}' dropped: {2}")]
    public void PropertyDropped(string eventName, string property, string reason) => WriteEvent(6, eventName, property, reason);

    [Event(7, Level = EventLevel.Informational, Message = "Spooled {0} events for a later run")]
    public void Spooled(int count) => WriteEvent(7, count);

    [Event(8, Level = EventLevel.Warning, Message = "Spool entries discarded: {0} ({1})")]
    public void SpoolDiscarded(int count, string reason) => WriteEvent(8, count, reason);

    [Event(9, Level = EventLevel.Informational, Message = "Delivered {0} spooled events")]
    public void SpoolDrained(int count) => WriteEvent(9, count);

    [Event(10, Level = EventLevel.Error, Message = "Internal error, contained: {0}")]
    public void InternalError(string type) => WriteEvent(10, type);
}
