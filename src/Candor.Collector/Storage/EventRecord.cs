using Candor.Protocol;

namespace Candor.Collector.Storage;

/// <summary>A validated, enriched event ready to store. It holds no client address: only what was
/// derived from it.</summary>
internal sealed class EventRecord
{
    public required string Product { get; init; }

    public required Guid Id { get; init; }

    public required string Name { get; init; }

    /// <summary>The schema version the event was validated against (the newest known when the client sent none).</summary>
    public required string SchemaVersion { get; init; }

    /// <summary>The event time corrected for the client's clock skew.</summary>
    public required DateTimeOffset Time { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }

    public required EventContext Context { get; init; }

    /// <summary>The properties as JSON, or <see langword="null"/>.</summary>
    public string? PropertiesJson { get; init; }

    public string? Country { get; init; }

    public string? Region { get; init; }

    public string? IpPseudonym { get; init; }

    /// <summary>The properties analytics reads on every dashboard load, as typed values.</summary>
    public AnalyticsFields Analytics { get; init; }
}

/// <summary>An event refused at ingest, kept with the reason so operators can see what is wrong.</summary>
internal sealed class QuarantineRecord
{
    /// <summary>The SELECT list both stores read quarantine rows with, in the order <see cref="Read"/> expects.</summary>
    public const string Columns = "product, event_id, reason_code, message, schema_ref, received_at, event_json, install_id";

    /// <summary>Reads one row selected with <see cref="Columns"/>.</summary>
    public static QuarantineRecord Read(System.Data.Common.DbDataReader reader) => new()
    {
        Product = reader.GetString(0),
        EventId = reader.IsDBNull(1) ? null : reader.GetGuid(1),
        ReasonCode = reader.GetString(2),
        Message = reader.GetString(3),
        SchemaRef = reader.IsDBNull(4) ? null : reader.GetString(4),
        ReceivedAt = StoredEvent.Utc(reader.GetDateTime(5)),
        EventJson = reader.GetString(6),
        InstallId = reader.IsDBNull(7) ? null : reader.GetGuid(7),
    };

    public required string Product { get; init; }

    public Guid? EventId { get; init; }

    /// <summary>The install of the batch the event came in, when its context named one: what forget
    /// deletes by. Not shown in the admin API's quarantine list.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Guid? InstallId { get; init; }

    public required string ReasonCode { get; init; }

    public required string Message { get; init; }

    /// <summary><c>product/name/version</c> as asked for or resolved, when the event named one.</summary>
    public string? SchemaRef { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The event as received, as JSON, truncated to a bound.</summary>
    public required string EventJson { get; init; }
}
