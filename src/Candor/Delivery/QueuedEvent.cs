using Candor.Catalog;
using Candor.Protocol;

namespace Candor.Delivery;

/// <summary>
/// An accepted event waiting in the queue. A struct holding the values by declared index, so that
/// <c>Track</c> allocates one array and no dictionary; the wire form, including the event id, is built
/// on the background path.
/// </summary>
/// <remarks>
/// The id is made when the event leaves the queue, not in <c>Track</c>: a UUIDv7's random part comes
/// from the OS's cryptographic generator, which costs microseconds per call on some kernels and
/// sandboxes — more than the rest of <c>Track</c> together. It is made once, before the first attempt,
/// and carries the event's own time, so retries and the spool resend the same id.
/// </remarks>
internal readonly struct QueuedEvent(EventDefinition definition, DateTimeOffset time, PropertyValue[] values)
{
    public EventDefinition Definition { get; } = definition;

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
            Id = Guid.CreateVersion7(Time),
            Name = Definition.Name,
            Version = Definition.Version,
            Time = Time,
            Properties = properties,
        };
    }
}
