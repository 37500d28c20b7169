using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Candor.Catalog;

/// <summary>
/// Every event a tool may send, declared up front. The client drops (and reports through its
/// diagnostics, never by throwing) any event or property not declared here. The catalog is also the
/// one source of the JSON Schema files the collector validates against (<see cref="ExportSchemas"/>).
/// </summary>
public sealed class EventCatalog
{
    private readonly Dictionary<string, EventDefinition> _events = new(StringComparer.Ordinal);

    /// <summary>Declares an event. Returns this catalog for chaining.</summary>
    /// <exception cref="ArgumentException">An event with the same name is already declared.</exception>
    public EventCatalog Add(EventDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (!_events.TryAdd(definition.Name, definition))
        {
            throw new ArgumentException($"Event '{definition.Name}' is declared twice.", nameof(definition));
        }

        return this;
    }

    /// <summary>The declared events, by name.</summary>
    public IReadOnlyCollection<EventDefinition> Events => _events.Values;

    /// <summary>Finds a declared event.</summary>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EventDefinition? definition) =>
        _events.TryGetValue(name, out definition);

    /// <summary>
    /// Writes one self-describing JSON Schema (draft-07) per event to
    /// <c>&lt;directory&gt;/&lt;product&gt;/&lt;event&gt;/&lt;version&gt;.json</c>, the layout the collector
    /// loads. Existing files are overwritten. Returns the paths written.
    /// </summary>
    public IReadOnlyList<string> ExportSchemas(string directory, string product)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(product);
        var written = new List<string>();
        foreach (var definition in _events.Values.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var folder = Path.Combine(directory, product, definition.Name);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, definition.Version + ".json");
            File.WriteAllText(path, ToJsonSchema(definition, product), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            written.Add(path);
        }

        return written;
    }

    /// <summary>The self-describing JSON Schema (draft-07) of one event's <c>properties</c> object.</summary>
    public static string ToJsonSchema(EventDefinition definition, string product)
    {
        ArgumentNullException.ThrowIfNull(definition);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("$schema", "http://json-schema.org/draft-07/schema#");
            json.WriteStartObject("self");
            json.WriteString("vendor", product);
            json.WriteString("name", definition.Name);
            json.WriteString("format", "jsonschema");
            json.WriteString("version", definition.Version);
            json.WriteEndObject();
            json.WriteString("description", definition.Description);
            json.WriteString("type", "object");
            json.WriteStartObject("properties");
            foreach (var property in definition.Properties)
            {
                json.WriteStartObject(property.Name);
                json.WriteString("description", property.Description);
                switch (property.Type)
                {
                    case PropertyType.String:
                        json.WriteString("type", "string");
                        json.WriteNumber("maxLength", property.MaxLength);
                        break;
                    case PropertyType.Enum:
                        json.WriteString("type", "string");
                        json.WriteStartArray("enum");
                        foreach (var value in property.Values)
                        {
                            json.WriteStringValue(value);
                        }

                        json.WriteEndArray();
                        break;
                    case PropertyType.Boolean:
                        json.WriteString("type", "boolean");
                        break;
                    case PropertyType.Integer or PropertyType.Number:
                        json.WriteString("type", property.Type == PropertyType.Integer ? "integer" : "number");
                        WriteBound(json, "minimum", property.Minimum, property.Type);
                        WriteBound(json, "maximum", property.Maximum, property.Type);
                        break;
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteBoolean("additionalProperties", false);
            json.WriteStartArray("required");
            foreach (var property in definition.Properties.Where(p => p.Required))
            {
                json.WriteStringValue(property.Name);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n";
    }

    private static void WriteBound(Utf8JsonWriter json, string name, double? bound, PropertyType type)
    {
        if (bound is not { } value)
        {
            return;
        }

        if (type == PropertyType.Integer)
        {
            json.WriteNumber(name, (long)value);
        }
        else
        {
            json.WriteNumber(name, value);
        }
    }
}
