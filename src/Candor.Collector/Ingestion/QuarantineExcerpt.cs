using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Candor.Protocol;

namespace Candor.Collector.Ingestion;

/// <summary>
/// The JSON the quarantine keeps of a rejected event: the event as received, but each string cut to
/// a bound and the whole cut to <see cref="CollectorOptions.QuarantineEventChars"/>, so a rejected
/// megabyte-long name costs the quarantine a few kilobytes, not a megabyte (serializing the event
/// whole and cutting afterwards would first build the megabyte). Numbers a JSON writer cannot write
/// (infinities) are kept as strings.
/// </summary>
internal static class QuarantineExcerpt
{
    /// <summary>The most characters kept of any one string of the event.</summary>
    public const int MaxStringChars = 256;

    public static string Of(TelemetryEvent? e, int maxChars)
    {
        if (e is null)
        {
            return "null";
        }

        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", e.Id);
            json.WriteString("name", TextRules.Excerpt(e.Name ?? "", MaxStringChars));
            if (e.Version is not null)
            {
                json.WriteString("version", TextRules.Excerpt(e.Version, MaxStringChars));
            }

            json.WriteString("time", e.Time);
            if (e.Properties is not null)
            {
                json.WriteStartObject("properties");
                foreach (var (key, value) in e.Properties)
                {
                    json.Flush();
                    if (buffer.WrittenCount > maxChars)
                    {
                        break; // the rest would be cut anyway
                    }

                    json.WritePropertyName(TextRules.Excerpt(key, MaxStringChars));
                    WriteValue(json, value);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        return text.Length <= maxChars ? text : TextRules.Excerpt(text, maxChars);
    }

    private static void WriteValue(Utf8JsonWriter json, PropertyValue value)
    {
        switch (value.Kind)
        {
            case PropertyKind.String:
                json.WriteStringValue(TextRules.Excerpt(value.AsString!, MaxStringChars));
                break;
            case PropertyKind.Number when !double.IsFinite(value.AsNumber):
                json.WriteStringValue(value.AsNumber.ToString(CultureInfo.InvariantCulture));
                break;
            case PropertyKind.Number:
                json.WriteNumberValue(value.AsNumber);
                break;
            case PropertyKind.Integer:
                json.WriteNumberValue(value.AsInteger);
                break;
            case PropertyKind.Boolean:
                json.WriteBooleanValue(value.AsBoolean);
                break;
            default:
                json.WriteNullValue();
                break;
        }
    }
}
