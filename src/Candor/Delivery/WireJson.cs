using System.Text.Encodings.Web;
using System.Text.Json;
using Candor.Protocol;

namespace Candor.Delivery;

/// <summary>
/// Writes batches and events in the wire format (see <c>docs/protocol.md</c>) with a plain
/// <see cref="Utf8JsonWriter"/>. Equivalent to <see cref="ProtocolJsonContext"/>'s output, but a cold
/// process pays a third of the start-up cost: the serializer's metadata for every contract type is
/// never built. Short-lived tools write one small batch at exit, where that cost is what the user feels.
/// </summary>
internal static class WireJson
{
    public static void WriteBatch(Stream stream, EventBatch batch)
    {
        using var json = new Utf8JsonWriter(stream);
        json.WriteStartObject();
        json.WriteString("sent_at", batch.SentAt);
        WriteContext(json, batch.Context);
        json.WriteStartArray("events");
        foreach (var telemetryEvent in batch.Events)
        {
            WriteEvent(json, telemetryEvent);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Reads a batch written by <see cref="WriteBatch"/> (the spool), with <see cref="JsonDocument"/>
    /// rather than the serializer for the same start-up reason. Throws <see cref="JsonException"/>,
    /// <see cref="FormatException"/> or <see cref="InvalidOperationException"/> on malformed input.</summary>
    public static EventBatch ReadBatch(Stream stream)
    {
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;
        var context = root.GetProperty("context");
        var batch = new EventBatch
        {
            SentAt = root.GetProperty("sent_at").GetDateTimeOffset(),
            Context = new EventContext
            {
                Product = context.GetProperty("product").GetString() ?? "",
                ProductVersion = OptionalString(context, "product_version"),
                InitialVersion = OptionalString(context, "initial_version"),
                SdkVersion = OptionalString(context, "sdk_version"),
                RuntimeVersion = OptionalString(context, "runtime_version"),
                OsFamily = OptionalString(context, "os_family"),
                OsVersion = OptionalString(context, "os_version"),
                KernelRelease = OptionalString(context, "kernel_release"),
                Architecture = OptionalString(context, "architecture"),
                Ci = context.TryGetProperty("ci", out var ci) && ci.GetBoolean(),
                CiName = OptionalString(context, "ci_name"),
                SessionId = context.GetProperty("session_id").GetGuid(),
                InstallId = context.TryGetProperty("install_id", out var installId) ? installId.GetGuid() : null,
                ProjectId = OptionalString(context, "project_id"),
                UserId = OptionalString(context, "user_id"),
                InstallIdPerProcess = context.TryGetProperty("install_id_per_process", out var perProcess) && perProcess.GetBoolean(),
                Cloud = OptionalString(context, "cloud"),
                CloudPlatform = OptionalString(context, "cloud_platform"),
                CloudRegion = OptionalString(context, "cloud_region"),
                Container = OptionalString(context, "container"),
            },
        };
        foreach (var element in root.GetProperty("events").EnumerateArray())
        {
            Dictionary<string, PropertyValue>? properties = null;
            if (element.TryGetProperty("properties", out var values))
            {
                properties = new Dictionary<string, PropertyValue>(StringComparer.Ordinal);
                foreach (var property in values.EnumerateObject())
                {
                    properties[property.Name] = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => PropertyValue.FromString(property.Value.GetString()),
                        JsonValueKind.True => PropertyValue.FromBoolean(true),
                        JsonValueKind.False => PropertyValue.FromBoolean(false),
                        JsonValueKind.Number when property.Value.TryGetInt64(out var integer) => PropertyValue.FromInteger(integer),
                        JsonValueKind.Number => PropertyValue.FromNumber(property.Value.GetDouble()),
                        _ => PropertyValue.Null,
                    };
                }
            }

            batch.Events.Add(new TelemetryEvent
            {
                Id = element.GetProperty("id").GetGuid(),
                Name = element.GetProperty("name").GetString() ?? "",
                Version = OptionalString(element, "version"),
                Time = element.GetProperty("time").GetDateTimeOffset(),
                Properties = properties,
            });
        }

        return batch;
    }

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>One event as JSON for people to read (transparency log, debug output): the same
    /// content, with <c>&lt;path&gt;</c> and non-ASCII text left unescaped.</summary>
    public static byte[] SerializeEvent(TelemetryEvent telemetryEvent)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            WriteEvent(json, telemetryEvent);
        }

        return buffer.ToArray();
    }

    private static void WriteContext(Utf8JsonWriter json, EventContext context)
    {
        json.WriteStartObject("context");
        json.WriteString("product", context.Product);
        WriteOptional(json, "product_version", context.ProductVersion);
        WriteOptional(json, "initial_version", context.InitialVersion);
        WriteOptional(json, "sdk_version", context.SdkVersion);
        WriteOptional(json, "runtime_version", context.RuntimeVersion);
        WriteOptional(json, "os_family", context.OsFamily);
        WriteOptional(json, "os_version", context.OsVersion);
        WriteOptional(json, "kernel_release", context.KernelRelease);
        WriteOptional(json, "architecture", context.Architecture);
        json.WriteBoolean("ci", context.Ci);
        WriteOptional(json, "ci_name", context.CiName);
        json.WriteString("session_id", context.SessionId);
        if (context.InstallId is { } installId)
        {
            json.WriteString("install_id", installId);
        }

        WriteOptional(json, "project_id", context.ProjectId);
        WriteOptional(json, "user_id", context.UserId);
        if (context.InstallIdPerProcess)
        {
            json.WriteBoolean("install_id_per_process", true);
        }

        WriteOptional(json, "cloud", context.Cloud);
        WriteOptional(json, "cloud_platform", context.CloudPlatform);
        WriteOptional(json, "cloud_region", context.CloudRegion);
        WriteOptional(json, "container", context.Container);
        json.WriteEndObject();
    }

    private static void WriteEvent(Utf8JsonWriter json, TelemetryEvent telemetryEvent)
    {
        json.WriteStartObject();
        json.WriteString("id", telemetryEvent.Id);
        json.WriteString("name", telemetryEvent.Name);
        WriteOptional(json, "version", telemetryEvent.Version);
        json.WriteString("time", telemetryEvent.Time);
        if (telemetryEvent.Properties is { } properties)
        {
            json.WriteStartObject("properties");
            foreach (var (name, value) in properties)
            {
                json.WritePropertyName(name);
                switch (value.Kind)
                {
                    case PropertyKind.String:
                        json.WriteStringValue(value.AsString);
                        break;
                    case PropertyKind.Integer:
                        json.WriteNumberValue(value.AsInteger);
                        break;
                    case PropertyKind.Number:
                        json.WriteNumberValue(value.AsNumber);
                        break;
                    case PropertyKind.Boolean:
                        json.WriteBooleanValue(value.AsBoolean);
                        break;
                    default:
                        json.WriteNullValue();
                        break;
                }
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }
}
