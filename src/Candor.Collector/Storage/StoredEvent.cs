using System.Data.Common;
using System.Text.Json;
using Candor.Protocol;

namespace Candor.Collector.Storage;

/// <summary>An event as stored: what the client sent, less anything the collector does not keep.</summary>
internal sealed class StoredEvent
{
    /// <summary>Reads one events row selected with the columns both stores read events with, in their
    /// table's order (DuckDb/DuckDbSchema.EventColumns): product, event_id, name, schema_version,
    /// event_time, received_at, the context's columns, properties, country, region, ip_pseudonym, then
    /// the context's columns added later: install_id_per_process, cloud, cloud_platform, cloud_region, container.</summary>
    public static StoredEvent Read(DbDataReader reader) => new()
    {
        Id = reader.GetGuid(1),
        Name = reader.GetString(2),
        Version = NullableString(reader, 3),
        Time = Utc(reader.GetDateTime(4)),
        ReceivedAt = Utc(reader.GetDateTime(5)),
        Context = new EventContext
        {
            Product = reader.GetString(0),
            InstallId = reader.IsDBNull(6) ? null : reader.GetGuid(6),
            SessionId = reader.IsDBNull(7) ? Guid.Empty : reader.GetGuid(7),
            ProjectId = NullableString(reader, 8),
            UserId = NullableString(reader, 9),
            ProductVersion = NullableString(reader, 10),
            InitialVersion = NullableString(reader, 11),
            SdkVersion = NullableString(reader, 12),
            RuntimeVersion = NullableString(reader, 13),
            OsFamily = NullableString(reader, 14),
            OsVersion = NullableString(reader, 15),
            KernelRelease = NullableString(reader, 16),
            Architecture = NullableString(reader, 17),
            Ci = !reader.IsDBNull(18) && reader.GetBoolean(18),
            CiName = NullableString(reader, 19),
            InstallIdPerProcess = !reader.IsDBNull(24) && reader.GetBoolean(24),
            Cloud = NullableString(reader, 25),
            CloudPlatform = NullableString(reader, 26),
            CloudRegion = NullableString(reader, 27),
            Container = NullableString(reader, 28),
        },
        Properties = reader.IsDBNull(20)
            ? null
            : JsonSerializer.Deserialize(reader.GetString(20), CollectorJsonContext.Default.IDictionaryStringPropertyValue),
        Country = NullableString(reader, 21),
        Region = NullableString(reader, 22),
        IpPseudonym = NullableString(reader, 23),
    };

    /// <summary>A timestamp read back from either store (UTC, without a kind) as UTC.</summary>
    public static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static string? NullableString(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

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
