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
