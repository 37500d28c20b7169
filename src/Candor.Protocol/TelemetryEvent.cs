namespace Candor.Protocol;

/// <summary>One usage event.</summary>
public sealed class TelemetryEvent
{
    /// <summary>A UUIDv7 made by the client; the collector's idempotency key.</summary>
    public Guid Id { get; set; }

    /// <summary>The event name, declared in the product's event catalog, e.g. <c>command</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>The SchemaVer version (<c>MODEL-REVISION-ADDITION</c>) of the event's schema,
    /// e.g. <c>1-0-0</c>.</summary>
    public string? Version { get; set; }

    /// <summary>When the event happened, by the client's clock.</summary>
    public DateTimeOffset Time { get; set; }

    /// <summary>The declared properties, already redacted on the client.</summary>
    public IDictionary<string, PropertyValue>? Properties { get; init; }
}
