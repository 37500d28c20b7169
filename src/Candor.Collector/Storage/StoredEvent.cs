using Candor.Protocol;

namespace Candor.Collector.Storage;

/// <summary>An event as stored: what the client sent, less anything the collector does not keep.</summary>
internal sealed class StoredEvent
{
    public Guid Id { get; set; }

    public string Name { get; set; } = "";

    public string? Version { get; set; }

    public DateTimeOffset Time { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }

    public EventContext Context { get; set; } = new();

    public IDictionary<string, PropertyValue>? Properties { get; init; }

    public string? Country { get; set; }

    public string? Region { get; set; }

    public string? IpPseudonym { get; set; }
}
