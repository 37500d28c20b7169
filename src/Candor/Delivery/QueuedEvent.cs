using Candor.Catalog;
using Candor.Protocol;

namespace Candor.Delivery;

/// <summary>
/// An accepted event waiting in the queue. A struct holding the values by declared index, so that
/// <c>Track</c> allocates one array and no dictionary; the wire form is built on the background path.
/// </summary>
internal readonly struct QueuedEvent(EventDefinition definition, Guid id, DateTimeOffset time, PropertyValue[] values)
{
    public EventDefinition Definition { get; } = definition;

    public Guid Id { get; } = id;

    public DateTimeOffset Time { get; } = time;

    /// <summary>One slot per declared property; <see cref="PropertyKind.Null"/> means absent.</summary>
    public PropertyValue[] Values { get; } = values;

    /// <summary>A rough size of the event's JSON, for the batch byte limit.</summary>
    public int EstimatedBytes
    {
        get
        {
            var bytes = 120 + Definition.Name.Length;
            for (var i = 0; i < Values.Length; i++)
            {
                if (Values[i].Kind != PropertyKind.Null)
                {
                    bytes += Definition.Properties[i].Name.Length + 8 + (Values[i].AsString?.Length * 2 ?? 24);
                }
            }

            return bytes;
        }
    }

    public TelemetryEvent ToTelemetryEvent()
    {
        var properties = new Dictionary<string, PropertyValue>(Values.Length, StringComparer.Ordinal);
        for (var i = 0; i < Values.Length; i++)
        {
            if (Values[i].Kind != PropertyKind.Null)
            {
                properties[Definition.Properties[i].Name] = Values[i];
            }
        }

        return new TelemetryEvent
        {
            Id = Id,
            Name = Definition.Name,
            Version = Definition.Version,
            Time = Time,
            Properties = properties,
        };
    }
}
